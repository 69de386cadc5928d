"""Another system's producer and consumer of imgpipe events, with Confluent's Python client (confluent-kafka).

  produce: sends one ImageUploaded for an image already in object storage (a claim check: `blob`), serialised by
           Confluent's AvroSerializer with the schema the registry holds for images.uploaded-value. Prints
           {"imageId", "schemaId", "partition", "offset"} as JSON.
  analyzed: reads images.analyzed from a point in time with Confluent's AvroDeserializer until the ImageAnalyzed of
           one image arrives (or the timeout passes), and prints it as JSON.

Written as a team outside imgpipe would write it, from schemas/README.md only: no imgpipe code, no .avsc file.
"""

import argparse
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def produce(args: argparse.Namespace) -> None:
    # httpx waits forever by default: a request the registry never answers would hang the test; 10 s, then retries.
    registry = SchemaRegistryClient({"url": args.registry, "timeout": 10, "max.retries": 3})
    serializer = AvroSerializer(
        registry,
        schema_str=None,  # use the registry's latest schema for the subject, not a local copy
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    event = {
        "imageId": args.image_id,
        "tenantId": args.tenant,
        "occurredAt": int(time.time() * 1000),
        "source": args.source,
        "contentType": args.content_type,
        "blob": {
            "bucket": args.bucket,
            "key": args.key,
            "sha256": args.sha256,
            "size": args.size,
            "contentType": args.content_type,
        },
        "inline": None,
        "sha256": args.sha256,
        "size": args.size,
        "analyses": args.analyses.split(",") if args.analyses else [],
        "callbackUrl": None,
        "attributes": json.loads(args.attributes),
    }
    topic = "images.uploaded"
    value = serializer(event, SerializationContext(topic, MessageField.VALUE))
    # murmur2_random is the Java client's (and kafkajs') partitioner: the same key lands on the same partition.
    producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all", "partitioner": "murmur2_random"})
    delivered = {}

    def on_delivery(error, message):
        if error is not None:
            raise KafkaException(error)
        delivered.update(partition=message.partition(), offset=message.offset())

    producer.produce(topic, key=args.image_id.encode("utf-8"), value=value, on_delivery=on_delivery)
    if producer.flush(30) != 0 or not delivered:
        sys.exit("the ImageUploaded was not delivered within 30 s")
    schema_id = int.from_bytes(value[1:5], "big")
    print(json.dumps({"imageId": args.image_id, "schemaId": schema_id, **delivered}))


def analyzed(args: argparse.Namespace) -> None:
    # httpx waits forever by default: a request the registry never answers would hang the test; 10 s, then retries.
    registry = SchemaRegistryClient({"url": args.registry, "timeout": 10, "max.retries": 3})
    deserializer = AvroDeserializer(registry)  # the writer's schema comes from the registry by the id in each message
    topic = "images.analyzed"
    consumer = Consumer(
        {"bootstrap.servers": args.bootstrap, "group.id": f"foreign-consumer-{args.image_id}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        starts = consumer.offsets_for_times(
            [TopicPartition(topic, p, args.since_ms) for p in partitions], timeout=10
        )
        consumer.assign(starts)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            if message.key() != args.image_id.encode("utf-8"):
                continue
            event = deserializer(message.value(), SerializationContext(topic, MessageField.VALUE))
            print(json.dumps({"schemaId": int.from_bytes(message.value()[1:5], "big"), "event": event}, default=str))
            return
        sys.exit(f"no ImageAnalyzed for {args.image_id} within {args.timeout} s")
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--registry", default="http://127.0.0.1:8081/apis/ccompat/v7")
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("produce")
    send.add_argument("--image-id", required=True)
    send.add_argument("--tenant", required=True)
    send.add_argument("--bucket", required=True)
    send.add_argument("--key", required=True)
    send.add_argument("--sha256", required=True)
    send.add_argument("--size", type=int, required=True)
    send.add_argument("--content-type", default="image/jpeg")
    send.add_argument("--source", default=None)
    send.add_argument("--analyses", default="", help="comma-separated detect,faces,ocr; empty means all")
    send.add_argument("--attributes", default="{}", help="a JSON object of strings")
    read = commands.add_parser("analyzed")
    read.add_argument("--image-id", required=True)
    read.add_argument("--since-ms", type=int, required=True, help="read from this instant (epoch ms) on")
    read.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    produce(args) if args.command == "produce" else analyzed(args)


if __name__ == "__main__":
    main()
