import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/**
 * fastify's response serializer factory (fast-json-stringify), compiling each distinct response schema once per set of
 * shared schemas. fastify compiles a serializer for every route and status, and most of them are the same schema
 * (every route's 4xx and 5xx answers are a `Problem`): the API has about 470 of them and 57 distinct ones, and
 * compiling each took 2 to 4 s of its start-up. A compiled serializer is a pure function of the value it writes, so
 * routes with equal schemas can share one.
 */
export function sharedSerializers(): SerializerFactory {
  const compilerFor = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = compilerFor(externalSchemas, options);
    const compiled = new Map<string, ReturnType<typeof compile>>();
    return (route) => {
      const key = JSON.stringify(route.schema);
      let serializer = compiled.get(key);
      if (!serializer) {
        serializer = compile(route);
        compiled.set(key, serializer);
      }
      return serializer;
    };
  };
}
