/**
 * The trigger metadata keys KEDA's scalers read, for the two scalers imgpipe uses.
 *
 * The keys KEDA's `kafka` scaler reads, from the `keda:"name=..."` tags of `kafkaMetadata` in kedacore/keda
 * pkg/scalers/kafka_scaler.go (KEDA 2.17+, the sarama-based scaler). KEDA silently ignores any other key, and the
 * ScaledObject CRD schema types trigger metadata as a free map of strings, so a misspelled key (`lagThreshhold`)
 * passes `kubectl apply` and the scaler falls back to its default. These lists are what catches it.
 *
 * Keys with `order=...;resolvedEnv` may instead be given as `<key>FromEnv`, naming an environment variable of the
 * scale target's container.
 */

/** Keys accepted in a kafka trigger's `metadata`. */
export const KAFKA_TRIGGER_METADATA_KEYS: ReadonlySet<string> = new Set([
  'bootstrapServers',
  'bootstrapServersFromEnv',
  'consumerGroup',
  'consumerGroupFromEnv',
  'topic',
  'topicFromEnv',
  'partitionLimitation',
  'lagThreshold',
  'activationLagThreshold',
  'offsetResetPolicy',
  'allowIdleConsumers',
  'excludePersistentLag',
  'scaleToZeroOnInvalidOffset',
  'limitToPartitionsWithLag',
  'ensureEvenDistributionOfPartitions',
  'version',
  'tls',
  'unsafeSsl',
  'sasl',
  'saslTokenProvider',
  'awsRegion',
]);

/** Parameters a TriggerAuthentication may supply to the kafka scaler (`order=authParams`). */
export const KAFKA_AUTH_PARAMETERS: ReadonlySet<string> = new Set([
  'tls',
  'ca',
  'cert',
  'key',
  'keyPassword',
  'sasl',
  'username',
  'password',
  'saslTokenProvider',
  'scopes',
  'oauthTokenEndpointUri',
  'oauthExtensions',
  'keytab',
  'realm',
  'kerberosConfig',
  'kerberosServiceName',
  'kerberosDisableFAST',
]);

/** Enumerated values the scaler accepts (anything else fails the ScaledObject at reconcile time). */
export const KAFKA_ENUMS: Readonly<Record<string, readonly string[]>> = {
  offsetResetPolicy: ['latest', 'earliest'],
  tls: ['enable', 'disable'],
  sasl: ['none', 'plaintext', 'scram_sha256', 'scram_sha512', 'oauthbearer', 'gssapi'],
  saslTokenProvider: ['bearer', 'aws_msk_iam'],
};

export const KAFKA_BOOLEAN_KEYS: readonly string[] = [
  'allowIdleConsumers',
  'excludePersistentLag',
  'scaleToZeroOnInvalidOffset',
  'limitToPartitionsWithLag',
  'ensureEvenDistributionOfPartitions',
  'unsafeSsl',
];

/**
 * Keys of the `prometheus` scaler (kedacore/keda pkg/scalers/prometheus_scaler.go, `prometheusMetadata`), plus
 * `authModes` of the shared authentication config. Used by the prod overlay's throughput trigger.
 */
export const PROMETHEUS_TRIGGER_METADATA_KEYS: ReadonlySet<string> = new Set([
  'serverAddress',
  'query',
  'queryParameters',
  'threshold',
  'activationThreshold',
  'namespace',
  'customHeaders',
  'ignoreNullValues',
  'unsafeSsl',
  'awsRegion',
  'timeout',
  'authModes',
]);
