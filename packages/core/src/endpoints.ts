import { bool, type ConfigOf, int, oneOf, optionalStr, optionalUrl, str, url } from './config.ts';

/**
 * Where the services live. One set of variable names serves the native local stack (`imgpipe stack up` listens
 * where these point), docker-compose and Kubernetes; the defaults point at the local stack on 127.0.0.1.
 */
export const kafkaConnectionSettings = {
  kafkaBrokers: str('IMGPIPE_KAFKA_BROKERS', {
    default: '127.0.0.1:9092',
    description: 'Kafka bootstrap servers, comma-separated',
  }),
  kafkaSsl: bool('IMGPIPE_KAFKA_SSL', { default: false, description: 'Connect to Kafka over TLS' }),
  kafkaCaFile: optionalStr('IMGPIPE_KAFKA_CA_FILE', {
    description: "PEM file of the CA that signed the brokers' certificates (default: the system's CAs)",
  }),
  kafkaSaslMechanism: oneOf('IMGPIPE_KAFKA_SASL_MECHANISM', ['none', 'plain', 'scram-sha-256', 'scram-sha-512'], {
    default: 'none',
  }),
  kafkaSaslUsername: optionalStr('IMGPIPE_KAFKA_SASL_USERNAME'),
  kafkaSaslPassword: optionalStr('IMGPIPE_KAFKA_SASL_PASSWORD'),
} as const;

/** How to reach Kafka: brokers plus TLS and SASL, as every process that talks to Kafka reads them. */
export type KafkaConnection = ConfigOf<typeof kafkaConnectionSettings>;

const POSTGRES_PROTOCOLS = ['postgres:', 'postgresql:'] as const;

export const serviceSettings = {
  ...kafkaConnectionSettings,
  schemaRegistryUrl: url('IMGPIPE_SCHEMA_REGISTRY_URL', {
    default: 'http://127.0.0.1:8081/apis/ccompat/v7',
    description: 'Confluent-compatible schema registry API',
  }),
  s3Endpoint: url('IMGPIPE_S3_ENDPOINT', { default: 'http://127.0.0.1:9000', description: 'S3-compatible endpoint' }),
  s3Region: str('IMGPIPE_S3_REGION', { default: 'us-east-1' }),
  s3Bucket: str('IMGPIPE_S3_BUCKET', {
    default: 'imgpipe',
    description: 'Bucket holding uploaded images and derivatives',
  }),
  s3AccessKey: str('IMGPIPE_S3_ACCESS_KEY', { default: 'imgpipe' }),
  s3SecretKey: str('IMGPIPE_S3_SECRET_KEY', { default: 'imgpipe-secret-key' }),
  databaseUrl: url('IMGPIPE_DATABASE_URL', {
    default: 'postgres://imgpipe:imgpipe@127.0.0.1:5432/imgpipe',
    protocols: POSTGRES_PROTOCOLS,
    description:
      'the PostgreSQL primary (in production through PgBouncer in transaction pooling): every write, and the reads ' +
      'that must see them (one image, dedup, API keys)',
  }),
  databaseReadUrl: optionalUrl('IMGPIPE_DATABASE_READ_URL', {
    protocols: POSTGRES_PROTOCOLS,
    description:
      'a streaming replica (or its PgBouncer) serving searches and lists (GET /v1/images); unset: the primary. ' +
      'Results appear there after the replication lag',
  }),
  databaseDirectUrl: optionalUrl('IMGPIPE_DATABASE_DIRECT_URL', {
    protocols: POSTGRES_PROTOCOLS,
    description:
      'the primary itself, not through PgBouncer: migrations (they hold a session-level advisory lock, which ' +
      'transaction pooling cannot keep); unset: IMGPIPE_DATABASE_URL',
  }),
  redisUrl: str('IMGPIPE_REDIS_URL', { default: 'redis://127.0.0.1:6379/0' }),
  topicPartitions: int('IMGPIPE_TOPIC_PARTITIONS', { default: 6, min: 1, max: 1000 }),
} as const;
