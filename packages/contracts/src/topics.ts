/**
 * Topic names, stage names and consumer groups: the one place that maps each event to its topic and its
 * schema-registry subject. Kubernetes manifests (KEDA ScaledObjects) are checked against these constants.
 */
export const STAGES = ['preprocess', 'detect', 'faces', 'ocr', 'aggregate'] as const;
export type StageName = (typeof STAGES)[number];

/**
 * Stages that run only for images that ask for them and report outside the result's per-stage map: transform renders
 * an upload's rendition presets, features finds keypoints for uploads that ask for `features`. Each is its own
 * consumer group with its own dead-letter topic, as STAGES are.
 */
export const OPTIONAL_STAGES = ['transform', 'features'] as const;
export type OptionalStageName = (typeof OPTIONAL_STAGES)[number];
/** Every stage a worker process can run. */
export const WORKER_STAGES = [...STAGES, ...OPTIONAL_STAGES] as const;
export type WorkerStageName = (typeof WORKER_STAGES)[number];

/** The analyses a caller may ask for; preprocess and aggregate always run. */
export const ANALYSES = ['detect', 'faces', 'ocr'] as const;
export type AnalysisName = (typeof ANALYSES)[number];

/**
 * Opt-in analyses beside ANALYSES: asked for in the same list (`analyses=detect,features`), never implied by an empty
 * one, and reported outside the per-stage map (ImageAnalysis.features and featuresStage).
 */
export const OPTIONAL_ANALYSES = ['features'] as const;
export type OptionalAnalysisName = (typeof OPTIONAL_ANALYSES)[number];
/** Every name an upload's analyses may hold. */
export const UPLOAD_ANALYSES = [...ANALYSES, ...OPTIONAL_ANALYSES] as const;
export type UploadAnalysisName = (typeof UPLOAD_ANALYSES)[number];

export const TOPICS = {
  uploaded: 'images.uploaded',
  preprocessed: 'images.preprocessed',
  detected: 'images.detected',
  faces: 'images.faces',
  text: 'images.text',
  analyzed: 'images.analyzed',
  transformed: 'images.transformed',
  features: 'images.features',
} as const;
export type PipelineTopic = (typeof TOPICS)[keyof typeof TOPICS];

export const EVENT_TYPES = {
  ImageUploaded: TOPICS.uploaded,
  ImagePreprocessed: TOPICS.preprocessed,
  ObjectsDetected: TOPICS.detected,
  FacesDetected: TOPICS.faces,
  TextRecognized: TOPICS.text,
  ImageAnalyzed: TOPICS.analyzed,
  ImageTransformed: TOPICS.transformed,
  FeaturesExtracted: TOPICS.features,
} as const;
export type EventType = keyof typeof EVENT_TYPES | 'DeadLetter';

/** The stage whose outcome each pipeline event reports (ImageUploaded reports none: it starts an image). */
export const STAGE_OF_EVENT: Readonly<
  Record<Exclude<keyof typeof EVENT_TYPES, 'ImageUploaded' | 'ImageTransformed' | 'FeaturesExtracted'>, StageName>
> = {
  ImagePreprocessed: 'preprocess',
  ObjectsDetected: 'detect',
  FacesDetected: 'faces',
  TextRecognized: 'ocr',
  ImageAnalyzed: 'aggregate',
};

/** The stage an event type reports, or undefined for events that report no stage outcome. */
export function stageOfEvent(eventType: string): StageName | undefined {
  return Object.hasOwn(STAGE_OF_EVENT, eventType)
    ? STAGE_OF_EVENT[eventType as keyof typeof STAGE_OF_EVENT]
    : undefined;
}

/** Avro namespace of every imgpipe schema; the registry subject of a topic's value is `<topic>-value`. */
export const SCHEMA_NAMESPACE = 'io.imgpipe.events';

export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

export const CONSUMER_GROUP_PREFIX = 'imgpipe';

export function consumerGroupFor(service: WorkerStageName | 'results'): string {
  return `${CONSUMER_GROUP_PREFIX}.${service}`;
}

export function deadLetterTopicFor(service: WorkerStageName | 'results'): string {
  return `${consumerGroupFor(service)}.dlq`;
}

/** What each stage consumes: the KEDA ScaledObject of a stage scales on its group's lag on these topics. */
export const STAGE_INPUTS: Readonly<Record<WorkerStageName, readonly PipelineTopic[]>> = {
  preprocess: [TOPICS.uploaded],
  detect: [TOPICS.preprocessed],
  faces: [TOPICS.preprocessed],
  ocr: [TOPICS.preprocessed],
  aggregate: [TOPICS.preprocessed, TOPICS.detected, TOPICS.faces, TOPICS.text, TOPICS.transformed, TOPICS.features],
  transform: [TOPICS.preprocessed],
  features: [TOPICS.preprocessed],
};

export const STAGE_OUTPUTS: Readonly<Record<WorkerStageName, PipelineTopic>> = {
  preprocess: TOPICS.preprocessed,
  detect: TOPICS.detected,
  faces: TOPICS.faces,
  ocr: TOPICS.text,
  aggregate: TOPICS.analyzed,
  transform: TOPICS.transformed,
  features: TOPICS.features,
};

/**
 * The results service reads every pipeline topic but images.transformed and images.features (the aggregate joins
 * renditions and keypoints into ImageAnalyzed, which the results service stores) and every analysis stage's
 * dead-letter topic (the optional stages' failures reach it joined too: each publishes a failed outcome before it
 * dead-letters).
 */
export const RESULTS_INPUTS: readonly string[] = [
  ...Object.values(TOPICS).filter((topic) => topic !== TOPICS.transformed && topic !== TOPICS.features),
  ...STAGES.map((stage) => deadLetterTopicFor(stage)),
];

/** Every dead-letter topic: one per stage and one for the results service; all carry DeadLetter events. */
export const DEAD_LETTER_TOPICS: readonly string[] = [
  ...WORKER_STAGES.map((stage) => deadLetterTopicFor(stage)),
  deadLetterTopicFor('results'),
];

export const EVENT_TYPE_NAMES: readonly EventType[] = [...(Object.keys(EVENT_TYPES) as EventType[]), 'DeadLetter'];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPE_NAMES as readonly string[]).includes(value);
}

/** The topics that carry an event type: its pipeline topic, or every dead-letter topic for DeadLetter. */
export function topicsForEvent(eventType: EventType): readonly string[] {
  return eventType === 'DeadLetter' ? DEAD_LETTER_TOPICS : [EVENT_TYPES[eventType]];
}

/** Every (event type, topic, subject) the registry holds: subjects follow TopicNameStrategy, `<topic>-value`. */
export function eventSubjects(): readonly { eventType: EventType; topic: string; subject: string }[] {
  return EVENT_TYPE_NAMES.flatMap((eventType) =>
    topicsForEvent(eventType).map((topic) => ({ eventType, topic, subject: subjectFor(topic) })),
  );
}

export const ALL_TOPICS: readonly string[] = [...Object.values(TOPICS), ...DEAD_LETTER_TOPICS];
