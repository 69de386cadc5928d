/**
 * EventCodec: imgpipe events to and from Kafka message values in the Confluent wire format, with schemas held by a
 * Confluent-compatible registry (subjects `<topic>-value`). Encoding writes with the local schema under the id the
 * registry gave it; decoding reads with the writer's schema (fetched by id, cached) resolved into the local schema,
 * so a consumer always sees the fields it knows, defaults filled in for data written before a field existed.
 *
 *   const codec = new EventCodec({ registryUrl });
 *   await codec.register();                       // at start-up, or let encode() register lazily
 *   const bytes = await codec.encode('ImageUploaded', event);
 *   const { eventType, value } = await codec.decode(bytes);
 */
import { ImgpipeError } from '@imgpipe/core';
import type { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Resolver, Type } from 'avsc';
import { readAvroBody, writeAvroBody } from './avro-body.ts';
import { checkEventRules } from './event-rules.ts';
import type { DecodedEvent, EventOf } from './events.ts';
import { fromRegistryLibraryError } from './registry-errors.ts';
import { againAfterTimeouts, REGISTRY_REQUEST_TIMEOUT_MS, RegistryHttp } from './registry-http.ts';
import { type EventSchemas, loadEventSchemas } from './schemas.ts';
import {
  deadLetterTopicFor,
  EVENT_TYPES,
  type EventType,
  eventSubjects,
  isEventType,
  SCHEMA_NAMESPACE,
  subjectFor,
} from './topics.ts';
import { composeWireMessage, parseWireMessage } from './wire-format.ts';

export interface EventCodecOptions {
  /** Confluent API base, e.g. http://127.0.0.1:8081/apis/ccompat/v7 (IMGPIPE_SCHEMA_REGISTRY_URL). */
  registryUrl: string;
  /** Defaults to the .avsc files under schemas/. */
  schemas?: EventSchemas;
  /** How long one registry request may wait for its answer (default 15 s); a request is tried three times. */
  requestTimeoutMs?: number;
  /**
   * When encode() meets a subject where the local schema is not registered yet: register it (true, the default, like
   * Confluent serializers' auto.register.schemas) or fail with CODEC_UNKNOWN_SCHEMA (false: schemas are registered
   * only by `imgpipe schemas register` in the deployment pipeline).
   */
  autoRegister?: boolean;
}

export interface EncodeOptions {
  /** The topic the message goes to; decides the subject. Default: the event's topic (DeadLetter: its stage's dlq). */
  topic?: string;
}

export interface RegisteredSubject {
  eventType: EventType;
  topic: string;
  subject: string;
  id: number;
  version: number;
}

interface Reader {
  eventType: EventType;
  type: Type;
  resolver: Resolver | undefined;
}

export class EventCodec {
  readonly schemas: EventSchemas;
  readonly registryUrl: string;
  /**
   * The registry client library, imported on first use: the processes that never encode or decode (the vision
   * worker threads, `imgpipe analyze`) load contracts without it and its ajv, protobufjs, mappersmith and yaml.
   */
  #registry: Promise<SchemaRegistry> | undefined;
  readonly #http: RegistryHttp;
  readonly #timeoutMs: number;
  readonly #autoRegister: boolean;
  /** subject -> schema id of the local schema, once known. Promises, so concurrent first calls share one request. */
  readonly #ids = new Map<string, Promise<number>>();
  /** writer schema id -> how to read it. */
  readonly #readers = new Map<number, Promise<Reader>>();

  constructor(options: EventCodecOptions) {
    this.registryUrl = options.registryUrl.replace(/\/+$/, '');
    this.schemas = options.schemas ?? loadEventSchemas();
    this.#autoRegister = options.autoRegister ?? true;
    this.#timeoutMs = options.requestTimeoutMs ?? REGISTRY_REQUEST_TIMEOUT_MS;
    this.#http = new RegistryHttp(this.registryUrl, this.#timeoutMs);
  }

  /** Registers every event schema under every subject it is used with (idempotent) and caches the ids. */
  async register(): Promise<RegisteredSubject[]> {
    const registered: RegisteredSubject[] = [];
    for (const { eventType, topic, subject } of eventSubjects()) {
      const id = await this.#registerSubject(eventType, subject);
      const found = await this.#http.lookup(subject, this.schemas[eventType].text);
      if (!found) {
        throw new ImgpipeError('CODEC_REGISTRY_UNAVAILABLE', `registered ${subject} (id ${id}) but cannot look it up`);
      }
      registered.push({ eventType, topic, subject, id, version: found.version });
    }
    return registered;
  }

  /** The subject an event is written under: `<topic>-value`. */
  subjectOf<T extends EventType>(eventType: T, value: EventOf<T>, options: EncodeOptions = {}): string {
    return subjectFor(options.topic ?? defaultTopic(eventType, value));
  }

  /** The registry id of the local schema of an event type under a subject. */
  schemaIdFor(eventType: EventType, subject: string): Promise<number> {
    let id = this.#ids.get(subject);
    if (!id) {
      id = this.#resolveId(eventType, subject);
      this.#ids.set(subject, id);
      id.catch(() => this.#ids.delete(subject));
    }
    return id;
  }

  async encode<T extends EventType>(eventType: T, value: EventOf<T>, options: EncodeOptions = {}): Promise<Buffer> {
    const schema = this.schemas[eventType];
    if (!schema) throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `unknown event type ${String(eventType)}`);
    checkEventRules(eventType, value);
    const body = writeAvroBody(schema.type, value, eventType);
    const id = await this.schemaIdFor(eventType, this.subjectOf(eventType, value, options));
    return composeWireMessage(id, body);
  }

  async decode(message: Uint8Array): Promise<DecodedEvent> {
    const { schemaId, body } = parseWireMessage(message);
    const reader = await this.#readerFor(schemaId);
    const value = readAvroBody(reader.type, body, `${reader.eventType} (schema id ${schemaId})`, reader.resolver);
    return { eventType: reader.eventType, schemaId, value } as DecodedEvent;
  }

  #registryClient(): Promise<SchemaRegistry> {
    this.#registry ??= import('@kafkajs/confluent-schema-registry').then(
      ({ SchemaRegistry }) =>
        new SchemaRegistry({
          host: this.registryUrl,
          clientId: 'imgpipe',
          retry: { retries: 2 },
          middlewares: [withDeadline(this.#timeoutMs)],
        }),
    );
    return this.#registry;
  }

  async #registerSubject(eventType: EventType, subject: string): Promise<number> {
    const schema = this.schemas[eventType];
    let id: number;
    try {
      const registry = await this.#registryClient();
      ({ id } = await againAfterTimeouts(
        () => registry.register({ type: 'AVRO' as SchemaType.AVRO, schema: schema.text }, { subject }),
        isLibraryTimeout,
      ));
    } catch (error) {
      throw fromRegistryLibraryError(error, `register ${eventType} under ${subject}`);
    }
    this.#ids.set(subject, Promise.resolve(id));
    return id;
  }

  async #resolveId(eventType: EventType, subject: string): Promise<number> {
    const found = await this.#http.lookup(subject, this.schemas[eventType].text);
    if (found) return found.id;
    if (this.#autoRegister) return this.#registerSubject(eventType, subject);
    throw new ImgpipeError(
      'CODEC_UNKNOWN_SCHEMA',
      `the local ${eventType} schema is not registered under ${subject}; run 'imgpipe schemas register'`,
    );
  }

  #readerFor(schemaId: number): Promise<Reader> {
    let reader = this.#readers.get(schemaId);
    if (!reader) {
      reader = this.#loadReader(schemaId);
      this.#readers.set(schemaId, reader);
      reader.catch(() => this.#readers.delete(schemaId));
    }
    return reader;
  }

  async #loadReader(schemaId: number): Promise<Reader> {
    let writer: unknown;
    try {
      const registry = await this.#registryClient();
      writer = await againAfterTimeouts(() => registry.getSchema(schemaId), isLibraryTimeout);
    } catch (error) {
      throw fromRegistryLibraryError(
        error,
        `fetch schema id ${schemaId}`,
        () => new ImgpipeError('CODEC_UNKNOWN_SCHEMA', `the registry knows no schema with id ${schemaId}`),
      );
    }
    const writerType = asAvroType(writer);
    const name = writerType?.name;
    const eventType = name?.startsWith(`${SCHEMA_NAMESPACE}.`) ? name.slice(SCHEMA_NAMESPACE.length + 1) : undefined;
    if (!writerType || !isEventType(eventType)) {
      throw new ImgpipeError(
        'CODEC_UNKNOWN_SCHEMA',
        `schema id ${schemaId} is ${name ? `the Avro record ${name}` : 'not an Avro record'}, not an imgpipe event`,
      );
    }
    const type = this.schemas[eventType].type;
    try {
      return { eventType, type, resolver: type.equals(writerType) ? undefined : type.createResolver(writerType) };
    } catch (error) {
      throw new ImgpipeError(
        'CODEC_INVALID_PAYLOAD',
        `schema id ${schemaId} (${eventType}) cannot be read with this version's ${eventType} schema: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

type LibraryMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

/**
 * A deadline for every request of the registry library, which has none: a registry that accepts the connection and
 * never answers (one still starting, one overloaded) would otherwise hold a register or a decode for ever. A request
 * past it fails as a timeout, which the library retries and registry-errors.ts reports as CODEC_REGISTRY_UNAVAILABLE.
 */
function withDeadline(timeoutMs: number): LibraryMiddleware {
  return () => ({
    async prepareRequest(next) {
      const request = await next();
      return request.timeout() ? request : request.enhance({ timeout: timeoutMs });
    },
  });
}

/** The library's own timeout error (mappersmith's "Timeout (Nms)"): its retries are for 5xx answers only. */
function isLibraryTimeout(error: unknown): boolean {
  return error instanceof Error && /\bTimeout \(\d+ms\)/.test(error.message);
}

function defaultTopic<T extends EventType>(eventType: T, value: EventOf<T>): string {
  if (eventType === 'DeadLetter') return deadLetterTopicFor((value as EventOf<'DeadLetter'>).stage);
  return EVENT_TYPES[eventType as Exclude<EventType, 'DeadLetter'>];
}

function asAvroType(schema: unknown): Type | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const candidate = schema as Partial<Type>;
  return typeof candidate.createResolver === 'function' && typeof candidate.fromBuffer === 'function'
    ? (schema as Type)
    : undefined;
}
