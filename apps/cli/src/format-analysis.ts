import { type ImageAnalysis, STAGES } from '@imgpipe/contracts';

const percent = (value: number) => `${Math.round(value * 100)}%`;

/** The readable summary of one image's analysis, shared by `analyze` and `results`. */
export function formatAnalysis(title: string, analysis: ImageAnalysis): string {
  const lines: string[] = [];
  const info = analysis.image;
  lines.push(`${title}  ${analysis.status}${info ? `  ${info.width}×${info.height} ${info.format}` : ''}`);
  const attributes = Object.entries(analysis.attributes ?? {});
  if (attributes.length > 0) {
    lines.push(`  attrs    ${attributes.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}`);
  }
  if (analysis.labels.length > 0) {
    lines.push(
      `  labels   ${analysis.labels.map((l) => `${l.label}${l.count > 1 ? ` ×${l.count}` : ''} (${percent(l.confidence)})`).join(', ')}`,
    );
  }
  if (analysis.faces.length > 0) lines.push(`  faces    ${analysis.faces.length}`);
  if (analysis.text.lines.length > 0) {
    lines.push(`  text     ${analysis.text.lines.length} line(s)`);
    for (const line of analysis.text.lines.slice(0, 10)) lines.push(`           ${line.text}`);
    if (analysis.text.lines.length > 10) lines.push(`           … ${analysis.text.lines.length - 10} more`);
  }
  for (const code of analysis.text.codes ?? []) {
    const { x, y, width, height } = code.box;
    lines.push(`  code     ${code.format} ${JSON.stringify(code.text)} at ${x},${y} ${width}×${height}`);
  }
  for (const rendition of analysis.renditions ?? []) {
    lines.push(
      `  rendition ${rendition.name}  ${rendition.width}×${rendition.height} ${rendition.format} ${rendition.bytes} B  ${rendition.recipe}  ${rendition.key}`,
    );
  }
  const features = analysis.features;
  if (features) {
    const best = features.keypoints
      .slice(0, 3)
      .map((k) => `${k.x.toFixed(1)},${k.y.toFixed(1)}`)
      .join('  ');
    lines.push(
      `  features ${features.count} ${features.detector} keypoints (long side <= ${features.maxSide} px)${best ? `  strongest at ${best}` : ''}  ${features.descriptorsKey}`,
    );
  }
  for (const stage of STAGES) {
    const report = analysis.stages[stage];
    if (report.status === 'failed') lines.push(`  ${stage} failed: ${report.error?.code}: ${report.error?.message}`);
  }
  const transform = analysis.transform;
  if (transform?.status === 'failed')
    lines.push(`  transform failed: ${transform.error?.code}: ${transform.error?.message}`);
  const featuresStage = analysis.featuresStage;
  if (featuresStage?.status === 'failed') {
    lines.push(`  features failed: ${featuresStage.error?.code}: ${featuresStage.error?.message}`);
  }
  return lines.join('\n');
}
