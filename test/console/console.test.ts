/**
 * The web console (packages/console, served by the API under /console) in a real headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core; no browser is downloaded) against the real stack, the real API and
 * real worker processes. One browser and one set of processes for the whole file; run under the stack lock.
 *
 * An uploader signs in and uploads two images by the file picker (a photo whose file name is markup, and a rendered
 * document whose text is markup); both reach completed on the page through the live event stream. The photo's page
 * draws its object boxes where the result says (pixels sampled from a screenshot at the box's top edge, scaled to the
 * displayed picture; gone when the overlay is switched off). An upload with only features checked (opt-in) draws its
 * keypoints where the result says, the same way. Search finds the photo by a label and the document by a
 * word of its text. An admin uploads a corrupt image, finds it among the failures with its code, and redrives it. A
 * viewer sees no upload or admin controls, and the API refuses those calls anyway. The file name and the OCR text
 * show as text (their text nodes equal the names; no element was made of them; no dialog opened), axe-core finds no
 * serious or critical violation on any page, and no page breaks its Content-Security-Policy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  consumerGroupFor,
  deadLetterTopicFor,
  EventCodec,
  type ImageUploaded,
  RESULTS_INPUTS,
  STAGE_INPUTS,
  type WorkerStageName,
} from '@imgpipe/contracts';
import { type Browser, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
import { sharedPath } from '../support/shared.ts';
import { endpoints, testKafka, waitFor } from '../support/kafka.ts';
import { UploadedTopicWatch } from '../api/leftovers.ts';
import {
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
} from '../api/support.ts';

const CHROMIUM = '/usr/bin/chromium';
const AXE = readFileSync(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');
const TENANT = testTenant('console');
const PASSWORD = 'console-test-password-0f9c';
const XSS_NAME = '<img src=x onerror=alert(1)>.jpg';
const DOCUMENT_NAME = 'receipt-<b>.png';
const DOCUMENT_TEXT = '<b>receipt</b> total';
/** The overlay colour of object boxes (packages/console/web/overlay.tsx). */
const OBJECT_RGB = [0xff, 0x00, 0xff] as const;
/** The overlay colour of keypoints (packages/console/web/overlay.tsx). */
const KEYPOINT_RGB = [0x00, 0xff, 0x00] as const;
const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'imgpipe-console-'));

const ENV = {
  IMGPIPE_INFERENCE_THREADS: '1',
  IMGPIPE_SHUTDOWN_DEADLINE_MS: '20000',
};

interface ImageView {
  imageId: string;
  status: string;
  sourceName?: string;
  image?: {
    width: number;
    height: number;
    scene?: {
      texture: { contrast: number; entropy: number };
      composition: { symmetry: number; weightCenter?: { x: number; y: number } };
    };
  };
  objects: { label: string; box: { x: number; y: number; width: number; height: number } }[];
  text: { fullText: string };
  requestedAnalyses?: string[];
  features?: { detector: string; count: number; keypoints: { x: number; y: number }[] };
  featuresStage?: { status: string };
}

/** A document image whose text is markup, rendered here (the OCR model reads it back exactly). */
async function markupDocument(): Promise<Buffer> {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="200"><rect width="900" height="200" fill="white"/>' +
    '<text x="30" y="120" font-family="DejaVu Sans, sans-serif" font-size="56" fill="black">' +
    '&lt;b&gt;receipt&lt;/b&gt; total</text></svg>';
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * Each stage's lag and dead letters read here from Kafka, independently of the API: the group's committed offsets
 * against its input topics' end offsets (a partition never committed on counts from its start), and the end offsets
 * of its dead-letter topic.
 */
async function kafkaFigures(stages: readonly string[]): Promise<Record<string, { lag: number; deadLetters: number }>> {
  const admin = testKafka('console-test-figures').admin();
  await admin.connect();
  try {
    const figures: Record<string, { lag: number; deadLetters: number }> = {};
    for (const stage of stages) {
      const inputs = stage === 'results' ? RESULTS_INPUTS : STAGE_INPUTS[stage as WorkerStageName];
      let lag = 0;
      for (const topic of inputs) {
        const ends = await admin.fetchTopicOffsets(topic);
        const [group] = await admin.fetchOffsets({
          groupId: consumerGroupFor(stage as WorkerStageName),
          topics: [topic],
        });
        for (const end of ends) {
          const committed = Number(group?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
          lag += Number(end.high) - (committed >= 0 ? committed : Number(end.low));
        }
      }
      const dead = await admin.fetchTopicOffsets(deadLetterTopicFor(stage as WorkerStageName)).catch(() => []);
      figures[stage] = { lag, deadLetters: dead.reduce((sum, end) => sum + Number(end.high), 0) };
    }
    return figures;
  } finally {
    await admin.disconnect();
  }
}

describe('web console in Chromium', () => {
  let api: TestApi;
  let services = new Map<string, PipelineService>();
  let browser: Browser;
  const dialogs: string[] = [];
  const cspViolations: string[] = [];
  const admin = bearer(tokenFor(TENANT, 'admin'));
  const uploaded = new Map<string, string>();

  const getImage = async (id: string) =>
    (await (await fetch(`${api.url}/v1/images/${id}`, { headers: admin })).json()) as ImageView;

  /** A page in a browser context of its own (its own cookies: one signed-in user each). */
  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ deviceScaleFactor: 1, viewport });
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    return page;
  }

  async function signIn(page: Page, username: string): Promise<void> {
    await page.goto(`${api.url}/console/`);
    await page.getByLabel('Tenant').fill(TENANT);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-as').waitFor();
  }

  /** axe-core in the page: no serious or critical violation. */
  async function checkAccessibility(page: Page, where: string): Promise<void> {
    await page.evaluate(AXE);
    const violations = (await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
      return (await axe.run()).violations;
    })) as { id: string; impact: string; nodes: { target: string[] }[] }[];
    const bad = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
    assert.deepEqual(
      bad.map(
        (violation) =>
          `${violation.id} (${violation.impact}): ${violation.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      ),
      [],
      `accessibility of ${where}`,
    );
  }

  /** The smallest distance (sum over R, G, B) to `rgb` among the screen pixels within 3 of `at`. */
  async function colourDistance(page: Page, at: { x: number; y: number }, rgb: readonly number[]): Promise<number> {
    const png = await page.screenshot({ clip: { x: at.x - 3, y: at.y - 3, width: 7, height: 7 } });
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < info.width * info.height; i++) {
      const distance = rgb.reduce<number>((sum, value, c) => sum + Math.abs(data[i * 3 + c]! - value), 0);
      best = Math.min(best, distance);
    }
    return best;
  }

  async function shoot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  before(async () => {
    api = await startTestApi({ operatorTenants: [TENANT] });
    services = await startServices(['preprocess', 'detect', 'faces', 'ocr', 'features', 'aggregate', 'results'], ENV);
    for (const [username, role] of [
      ['uploader', 'uploader'],
      ['admin', 'admin'],
      ['viewer', 'viewer'],
    ] as const) {
      const response = await fetch(`${api.url}/v1/users`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD, role }),
      });
      assert.equal(response.status, 201, await response.text());
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await stopServices(services);
    if (api) {
      await deleteTenantImages(api.api, [TENANT]);
      await api.close();
    }
  });

  test('the console has a strict Content-Security-Policy and security headers; the JSON API and /docs are unchanged', async () => {
    const page = await fetch(`${api.url}/console/search`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
    const html = await page.text();
    assert.doesNotMatch(html, /<script>|<style|style=/, 'no inline script or style in the page');
    const script = html.match(/src="(\/console\/assets\/main\.js[^"]*)"/)?.[1];
    assert.ok(script, html);
    const asset = await fetch(`${api.url}${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    const etag = asset.headers.get('etag')!;
    assert.equal((await fetch(`${api.url}${script}`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${api.url}/console/assets/nope.js`)).status, 404);
    const json = await fetch(`${api.url}/v1/images`, { headers: admin });
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-security-policy'), null);
    const docs = await fetch(`${api.url}/docs/`);
    assert.equal(docs.status, 200);
    assert.doesNotMatch(docs.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });

  test('an uploader signs in, uploads two images and watches both reach completed', async () => {
    const page = await newPage();
    await signIn(page, 'uploader');
    await checkAccessibility(page, 'the upload page');
    // The rendition presets offered are the deployment's (the test API runs the defaults: thumb and web).
    const presets = page.getByRole('group', { name: 'Renditions' }).getByRole('checkbox');
    await presets.first().waitFor();
    assert.deepEqual(await presets.evaluateAll((boxes) => boxes.map((box) => box.getAttribute('value'))), [
      'thumb',
      'web',
    ]);
    await shoot(page, 'upload-empty');
    await page.getByLabel('Drop images here, or choose files').setInputFiles([
      { name: XSS_NAME, mimeType: 'image/jpeg', buffer: readFileSync(sharedPath('images', 'photos', 'dog.jpg')) },
      { name: DOCUMENT_NAME, mimeType: 'image/png', buffer: await markupDocument() },
    ]);
    await page.getByRole('button', { name: 'Upload 2 images' }).click();
    const rows = page.locator('li.progress');
    await waitFor('two progress rows', async () => ((await rows.count()) === 2 ? true : undefined), 30_000);
    for (const row of await rows.all()) {
      const id = (await row.getAttribute('data-image-id'))!;
      uploaded.set((await row.locator('a.name').textContent())!, id);
    }
    assert.deepEqual([...uploaded.keys()].sort(), [DOCUMENT_NAME, XSS_NAME].sort(), 'the names show as text');
    await waitFor(
      'both images completed on the page',
      async () => ((await page.locator('li.progress[data-status="completed"]').count()) === 2 ? true : undefined),
      240_000,
      250,
    );
    // Every stage reached its final state on the page, as the API reports it.
    for (const id of uploaded.values()) {
      const view = await getImage(id);
      assert.equal(view.status, 'completed');
      const shown = await page.locator(`li.progress[data-image-id="${id}"] li.stage`).allTextContents();
      assert.ok(
        shown.every((text) => /: (completed|skipped)/.test(text)),
        shown.join(' | '),
      );
    }
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no element was made of the file name');
    await checkAccessibility(page, 'the upload page with progress');
    await shoot(page, 'upload');
    await page.context().close();
  });

  test("the photo's page draws its boxes where the result says; the document's text shows as text", async () => {
    const photoId = uploaded.get(XSS_NAME)!;
    const view = await getImage(photoId);
    assert.ok(view.objects.length > 0 && view.image, 'the photo has objects');
    // A smaller copy of the photo, asking for text only (no labels: the label search below finds one image); its
    // preprocess gives it a perceptual hash near the photo's.
    const form = new FormData();
    form.append('analyses', 'ocr');
    const copyBytes = await sharp(readFileSync(sharedPath('images', 'photos', 'dog.jpg')))
      .resize({ width: 400 })
      .jpeg({ quality: 80 })
      .toBuffer();
    form.append('file', new Blob([new Uint8Array(copyBytes)], { type: 'image/jpeg' }), 'dog-copy.jpg');
    const accepted = await fetch(`${api.url}/v1/images`, { method: 'POST', headers: admin, body: form });
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const copyId = ((await accepted.json()) as { imageId: string }).imageId;
    await waitFor(
      'the copy to be preprocessed',
      async () =>
        ((await getImage(copyId)) as unknown as { stages: Record<string, { status: string }> }).stages['preprocess']
          ?.status === 'completed'
          ? true
          : undefined,
      120_000,
      250,
    );
    const similar = (await (await fetch(`${api.url}/v1/images/${photoId}/similar`, { headers: admin })).json()) as {
      similar: { imageId: string }[];
    };
    assert.ok(
      similar.similar.some((item) => item.imageId === copyId),
      'the API finds the copy similar',
    );
    const page = await newPage();
    await signIn(page, 'uploader');
    await page.goto(`${api.url}/console/images/${photoId}`);
    const similarOnPage = page.getByTestId('similar').locator('li.result');
    await similarOnPage.first().waitFor();
    assert.deepEqual(
      await similarOnPage.evaluateAll((items) => items.map((item) => item.getAttribute('data-image-id'))),
      similar.similar.map((item) => item.imageId),
      'the page lists the similar images the API answers, nearest first',
    );
    assert.equal(
      await page.getByTestId('similar').locator(`li.result[data-image-id="${copyId}"] .name`).textContent(),
      'dog-copy.jpg',
    );
    await page.locator('[data-testid="picture"] img').waitFor();
    await page.waitForFunction('document.querySelector(\'[data-testid="picture"] img\')?.naturalWidth > 0');
    assert.equal(await page.getByTestId('image-name').textContent(), XSS_NAME);
    // Texture and composition as the API answers them, in the facts list.
    const scene = view.image!.scene!;
    assert.ok(scene, 'the photo has a scene');
    const fact = async (name: string) =>
      (
        await page.locator('dl.facts dt', { hasText: name }).locator('xpath=following-sibling::dd[1]').textContent()
      )?.trim();
    assert.equal(await fact('texture contrast'), scene.texture.contrast.toFixed(4));
    assert.equal(await fact('entropy'), `${scene.texture.entropy.toFixed(2)} bits`);
    assert.equal(await fact('left-right symmetry'), scene.composition.symmetry.toFixed(3));
    const centre = scene.composition.weightCenter!;
    assert.equal(
      await fact('visual weight at'),
      `${Math.round(centre.x * 100)}% across, ${Math.round(centre.y * 100)}% down`,
    );
    const picture = (await page.locator('[data-testid="picture"] img').boundingBox())!;
    const scale = picture.width / view.image!.width;
    // The largest box: its top edge, sampled at the middle of the edge, in screen pixels.
    const box = [...view.objects].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0]!.box;
    const at = { x: Math.round(picture.x + (box.x + box.width / 2) * scale), y: Math.round(picture.y + box.y * scale) };
    const sample = () => colourDistance(page, at, OBJECT_RGB);
    assert.ok((await sample()) < 60, `the box colour at ${at.x},${at.y} (top edge of ${JSON.stringify(box)})`);
    await page.getByLabel(/Objects \(\d+\)/).uncheck();
    assert.ok((await sample()) > 150, 'no box colour once the objects overlay is off');
    await page.getByLabel(/Objects \(\d+\)/).check();
    await checkAccessibility(page, 'the image page');
    await shoot(page, 'image');

    // On a phone-sized screen the page fits its width.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate('document.documentElement.scrollWidth <= 390'), 'no horizontal scrolling');
    await shoot(page, 'image-phone');

    const documentId = uploaded.get(DOCUMENT_NAME)!;
    const documentView = await getImage(documentId);
    assert.equal(documentView.text.fullText, DOCUMENT_TEXT);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${api.url}/console/images/${documentId}`);
    const text = page.getByTestId('ocr-text');
    await text.waitFor();
    assert.equal(await text.textContent(), DOCUMENT_TEXT, 'the OCR text is a text node, markup and all');
    assert.equal(await text.locator('b').count(), 0, 'no element was made of the OCR text');
    assert.equal(await page.getByTestId('image-name').textContent(), DOCUMENT_NAME);
    await checkAccessibility(page, 'the document page');
    await page.context().close();
  });

  test('an upload with features checked shows its keypoints where the result says, as a toggleable overlay', async () => {
    const page = await newPage({ width: 1280, height: 1400 });
    await signIn(page, 'uploader');
    const analyses = page.getByRole('group', { name: 'Analyses' });
    const features = analyses.getByLabel('Keypoints (features)');
    assert.equal(await features.isChecked(), false, 'features is opt-in');
    for (const label of ['Objects', 'Faces', 'Text (OCR)']) await analyses.getByLabel(label).uncheck();
    await features.check();
    await page.getByLabel('Drop images here, or choose files').setInputFiles({
      name: 'kite.jpg',
      mimeType: 'image/jpeg',
      buffer: readFileSync(sharedPath('images', 'photos', 'kite.jpg')),
    });
    await page.getByRole('button', { name: 'Upload 1 image' }).click();
    const row = page.locator('li.progress');
    await row.waitFor();
    const id = (await row.getAttribute('data-image-id'))!;
    await waitFor(
      'the features image completed on the page',
      async () => ((await row.getAttribute('data-status')) === 'completed' ? true : undefined),
      120_000,
      250,
    );
    const view = await getImage(id);
    assert.deepEqual(view.requestedAnalyses, ['features'], 'the page asked for features alone');
    assert.ok(view.features && view.features.keypoints.length > 0 && view.image, 'the result has keypoints');
    // The opt-in stage has its own progress row, with the status the result reports for it.
    const featuresRow = `features: ${view.featuresStage?.status}`;
    assert.equal(featuresRow, 'features: completed');
    await waitFor(
      'the features progress row',
      async () => ((await row.locator('li[data-stage="features"]').textContent()) === featuresRow ? true : undefined),
      30_000,
      250,
    );
    await page.goto(`${api.url}/console/images/${id}`);
    await page.locator('[data-testid="picture"] img').waitFor();
    await page.waitForFunction('document.querySelector(\'[data-testid="picture"] img\')?.naturalWidth > 0');
    assert.equal(
      await page.getByTestId('features').locator('p').textContent(),
      `${view.features.count} keypoints (${view.features.detector}), the strongest ${view.features.keypoints.length} drawn`,
    );
    const picture = (await page.locator('[data-testid="picture"] img').boundingBox())!;
    const scale = picture.width / view.image.width;
    // The strongest keypoint away from the picture's edges, in screen pixels.
    const inside = view.features.keypoints
      .map((point) => ({ x: Math.round(picture.x + point.x * scale), y: Math.round(picture.y + point.y * scale) }))
      .find(
        (at) =>
          at.x > picture.x + 8 &&
          at.x < picture.x + picture.width - 8 &&
          at.y > picture.y + 8 &&
          at.y < Math.min(picture.y + picture.height, 1400) - 8,
      );
    assert.ok(inside, 'a keypoint inside the shown picture');
    assert.ok(
      (await colourDistance(page, inside, KEYPOINT_RGB)) < 60,
      `the keypoint colour at ${JSON.stringify(inside)}`,
    );
    const toggle = page.getByLabel(`Keypoints (${view.features.keypoints.length})`);
    await toggle.uncheck();
    assert.ok((await colourDistance(page, inside, KEYPOINT_RGB)) > 150, 'no keypoint colour once the overlay is off');
    await toggle.check();
    await checkAccessibility(page, 'the image page with keypoints');
    await shoot(page, 'image-keypoints');
    await page.context().close();
  });

  test('search finds the photo by a label and the document by a word of its text, with thumbnails', async () => {
    const page = await newPage();
    await signIn(page, 'uploader');
    await page.getByRole('link', { name: 'Search' }).click();
    const label = (await getImage(uploaded.get(XSS_NAME)!)).objects[0]!.label;
    await page.getByLabel('Label').fill(label);
    await page.getByRole('button', { name: 'Search' }).click();
    await waitFor('the label search', async () => ((await page.locator('li.result').count()) === 1 ? true : undefined));
    assert.equal(await page.locator('li.result').getAttribute('data-image-id'), uploaded.get(XSS_NAME));
    assert.equal(await page.locator('li.result .name').textContent(), XSS_NAME);
    await page.locator('li.result img.thumb').waitFor();
    await checkAccessibility(page, 'the search page');
    await shoot(page, 'search');

    await page.getByLabel('Label').fill('');
    await page.getByLabel('Text').fill('receipt');
    await page.getByRole('button', { name: 'Search' }).click();
    await waitFor('the text search', async () =>
      (await page.locator('li.result').count()) === 1 &&
      (await page.locator('li.result').getAttribute('data-image-id')) === uploaded.get(DOCUMENT_NAME)
        ? true
        : undefined,
    );
    await page.context().close();
  });

  test('an admin sees a corrupt image among the failures, with its code, and redrives it', async () => {
    const page = await newPage();
    await signIn(page, 'admin');
    await page
      .getByLabel('Drop images here, or choose files')
      .setInputFiles(sharedPath('images', 'broken', 'truncated.jpg'));
    await page.getByRole('button', { name: 'Upload 1 image' }).click();
    const row = page.locator('li.progress');
    await row.waitFor();
    const brokenId = (await row.getAttribute('data-image-id'))!;
    await waitFor(
      'the corrupt image to fail on the page',
      async () => ((await row.getAttribute('data-status')) === 'failed' ? true : undefined),
      120_000,
      250,
    );
    const code = ((await getImage(brokenId)) as ImageView & { error?: { code: string } }).error?.code;
    assert.ok(code, 'the API names the failure');
    await page.getByRole('link', { name: 'Operations' }).click();
    const failure = page.locator(`ul.failures li[data-image-id="${brokenId}"]`);
    await failure.waitFor();
    assert.equal(await failure.locator('.error-code').textContent(), code);
    assert.equal(await page.locator('ul.failures li').count(), 1, 'only the corrupt image failed');
    await page.locator('table tr[data-stage="detect"]').waitFor();
    // The stage panel's lag and dead letters are Kafka's, read here independently (the page reads them again every
    // 10 s; once the pipeline is quiet both agree), and the rates appear from the second reading on.
    const stages = await page
      .locator('table tr[data-stage]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-stage')!));
    const shown = async () => {
      const figures: Record<string, { lag: number; deadLetters: number }> = {};
      for (const stage of stages) {
        const row = page.locator(`table tr[data-stage="${stage}"]`);
        figures[stage] = {
          lag: Number(await row.locator('[data-metric="lag"]').textContent()),
          deadLetters: Number(await row.locator('[data-metric="dead-letters"]').textContent()),
        };
      }
      return figures;
    };
    let last = '';
    await waitFor(
      'the stage panel to show the lag and dead letters Kafka reports',
      async () => {
        const [onPage, kafka] = [await shown(), await kafkaFigures(stages)];
        last = JSON.stringify({ onPage, kafka });
        const rates = await page.locator('table [data-metric="throughput"]').allTextContents();
        return JSON.stringify(onPage) === JSON.stringify(kafka) && rates.every((text) => /^\d+\.\d\d$/.test(text))
          ? true
          : undefined;
      },
      90_000,
      1000,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}: ${last}`);
    });
    assert.ok((await kafkaFigures(['preprocess'])).preprocess!.deadLetters >= 1, 'the corrupt image was dead-lettered');
    await checkAccessibility(page, 'the operations page');
    await shoot(page, 'operations');

    // The per-image redrive re-publishes this image's failed stage, and nothing of any other image.
    const watch = await UploadedTopicWatch.start();
    await failure.getByRole('button', { name: /^Redrive/ }).click();
    await waitFor('the redrive', async () => {
      const text = (await failure.getByRole('status').textContent()) ?? '';
      return /queued|:/.test(text) && text !== 'Redriving…' ? text : undefined;
    });
    assert.equal(await failure.getByRole('status').textContent(), 'Redrove preprocess: queued again.');
    const codec = new EventCodec({ registryUrl: endpoints.schemaRegistryUrl });
    const events = await Promise.all(
      (await watch.eventValuesOf(TENANT)).map(async (value) => (await codec.decode(value)).value as ImageUploaded),
    );
    assert.deepEqual(
      events.map((event) => [event.imageId, event.analyses.join(',')]),
      [[brokenId, 'detect,faces,ocr']],
      'one re-published upload: the corrupt image, with the analyses it asked for',
    );
    // The route's refusals, with their codes: an image of no failed stage, an unknown id.
    const adminToken = bearer(tokenFor(TENANT, 'admin'));
    const redriveOf = (id: string) =>
      fetch(`${api.url}/v1/admin/images/${id}/redrive`, { method: 'POST', headers: adminToken });
    const completed = await redriveOf(uploaded.get(XSS_NAME)!);
    assert.equal(completed.status, 409);
    assert.equal((await problemOf(completed))['code'], 'REDRIVE_NOTHING_FAILED');
    const unknown = await redriveOf('00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
    assert.equal((await problemOf(unknown))['code'], 'RESOURCE_NOT_FOUND');
    await page.context().close();
  });

  test('an admin creates an API key, sees its secret once and revokes it; the webhook page shows and rotates the secret', async () => {
    const page = await newPage();
    await signIn(page, 'admin');
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill(XSS_NAME);
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key-secret').textContent())!;
    const me = async () => fetch(`${api.url}/v1/auth/me`, { headers: { 'x-api-key': secret } });
    const answer = await me();
    assert.equal(answer.status, 200, 'the key shown works');
    assert.equal(((await answer.json()) as { role: string }).role, 'viewer');
    const row = page.locator('tr', { has: page.locator('th.name', { hasText: XSS_NAME }) });
    assert.equal(await row.locator('th.name').textContent(), XSS_NAME, 'the key name shows as text');
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    await checkAccessibility(page, 'the API keys page');
    await shoot(page, 'api-keys');
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await row.getByText(/^revoked/).waitFor();
    assert.equal(await page.getByTestId('new-key-secret').count(), 0, 'the secret is not shown again');
    assert.equal((await me()).status, 401, 'the revoked key is refused');

    await page.getByRole('link', { name: 'Webhook' }).click();
    await page.getByRole('button', { name: 'Show secret' }).click();
    const before = (await page.getByTestId('webhook-secret').textContent())!;
    const settings = async () =>
      (await (await fetch(`${api.url}/v1/webhook`, { headers: admin })).json()) as { secret: string };
    assert.equal(before, (await settings()).secret);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText(/^The secret was rotated/).waitFor();
    const after = (await page.getByTestId('webhook-secret').textContent())!;
    assert.notEqual(after, before);
    assert.equal(after, (await settings()).secret, 'the page shows the secret the API now signs with');
    await checkAccessibility(page, 'the webhook page');
    await page.context().close();
  });

  test('a viewer sees no upload or admin controls, and the API refuses them anyway', async () => {
    const page = await newPage();
    await signIn(page, 'viewer');
    assert.equal(await page.getByRole('link', { name: 'Upload' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Operations' }).count(), 0);
    assert.equal(await page.locator('input[type="file"]').count(), 0);
    await page.goto(`${api.url}/console/admin`);
    await page.getByRole('heading', { name: 'Operations' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Redrive|Pause|Resume/ }).count(), 0);
    await checkAccessibility(page, "the viewer's operations page");
    await page.context().close();

    const login = await fetch(`${api.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: TENANT, username: 'viewer', password: PASSWORD }),
    });
    const viewer = bearer(((await login.json()) as { accessToken: string }).accessToken);
    const upload = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...viewer, 'content-type': 'image/jpeg' },
      body: readFileSync(sharedPath('images', 'photos', 'dog.jpg')),
    });
    assert.equal(upload.status, 403);
    assert.equal((await fetch(`${api.url}/v1/users`, { headers: viewer })).status, 403);
    const redrive = await fetch(`${api.url}/v1/admin/reprocess`, {
      method: 'POST',
      headers: { ...viewer, 'content-type': 'application/json' },
      body: JSON.stringify({ stage: 'preprocess', mode: 'missing', tenant: TENANT }),
    });
    assert.equal(redrive.status, 403);
    const imageRedrive = await fetch(`${api.url}/v1/admin/images/${uploaded.get(XSS_NAME)}/redrive`, {
      method: 'POST',
      headers: viewer,
    });
    assert.equal(imageRedrive.status, 403);
  });

  test('the sign-in page is accessible; no dialog opened and no page broke its CSP', async (t) => {
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(`${api.url}/console/`);
    await page.getByLabel('Tenant').waitFor();
    await checkAccessibility(page, 'the sign-in page');
    await shoot(page, 'sign-in-phone');
    await page.context().close();
    assert.deepEqual(dialogs, []);
    assert.deepEqual(cspViolations, []);
    writeFileSync(join(SCREENSHOTS, 'README'), 'screenshots of the console test run\n');
    t.diagnostic(`screenshots in ${SCREENSHOTS}`);
  });
});
