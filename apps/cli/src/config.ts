import { type ConfigOf, kafkaConnectionSettings, loadConfig, serviceSettings, type Settings } from '@imgpipe/core';

/**
 * The CLI's configuration. Commands differ in what they reach, so each command that needs configuration loads it
 * once, at its start, through loadCliConfig: the shared groups it names (below: only @imgpipe/core settings, cheap
 * to import) and any settings of its own from the packages it uses (e.g. the vision settings for analyze). One load
 * means every mistake is reported at once; main.ts turns CONFIG_INVALID into one line per mistake and exit 78.
 */
export const cliSettings = {
  kafka: kafkaConnectionSettings,
  schemaRegistryUrl: serviceSettings.schemaRegistryUrl,
  topicPartitions: serviceSettings.topicPartitions,
  databaseUrl: serviceSettings.databaseUrl,
  databaseDirectUrl: serviceSettings.databaseDirectUrl,
  redisUrl: serviceSettings.redisUrl,
  storage: {
    s3Endpoint: serviceSettings.s3Endpoint,
    s3Region: serviceSettings.s3Region,
    s3Bucket: serviceSettings.s3Bucket,
    s3AccessKey: serviceSettings.s3AccessKey,
    s3SecretKey: serviceSettings.s3SecretKey,
  },
};

export type CliConfig = ConfigOf<typeof cliSettings>;

export function loadCliConfig<const K extends keyof CliConfig, O extends Settings = Record<never, never>>(
  groups: readonly K[],
  own: O = {} as O,
): Pick<CliConfig, K> & ConfigOf<O> {
  const shared = Object.fromEntries(groups.map((group) => [group, cliSettings[group]])) as Settings;
  return loadConfig({ ...shared, ...own }) as Pick<CliConfig, K> & ConfigOf<O>;
}
