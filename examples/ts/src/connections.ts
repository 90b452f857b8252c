import { defineKafkaConnection, defineS3Connection, secret } from "@tinybirdco/sdk";

// Define Kafka connection
export const eventsKafka = defineKafkaConnection("events_kafka", {
  bootstrapServers: "kafka.example.com:9092",
  securityProtocol: "SASL_SSL",
  saslMechanism: "PLAIN",
  key: secret("KAFKA_KEY"),
  secret: secret("KAFKA_SECRET"),
});

// Define S3 connection
export const landingS3 = defineS3Connection("landing_s3", {
  region: "us-east-1",
  arn: "arn:aws:iam::123456789012:role/tinybird-s3-access",
});

export const dataWarehouse = defineS3Connection("data_warehouse", {
  region: "us-west-2",
  arn: "arn:aws:iam::123456789012:role/tinybird-warehouse-access",
});

export const kafka = defineKafkaConnection("kafka_prod", {
  bootstrapServers: "kafka-1.example.com:9092,kafka-2.example.com:9092",
  securityProtocol: "SASL_SSL",
  saslMechanism: "PLAIN",
  key: secret("KAFKA_KEY"),
  secret: secret("KAFKA_SECRET"),
});

export const s3 = defineS3Connection("s3_prod", {
  region: "us-east-1",
  arn: "arn:aws:iam::123456789012:role/tinybird-s3-access",
});

export const streamingKafka = defineKafkaConnection("streaming_kafka", {
  bootstrapServers: "kafka.streaming.example.com:9092",
  securityProtocol: "SASL_SSL",
  saslMechanism: "PLAIN",
  key: secret("STREAMING_KAFKA_KEY"),
  secret: secret("STREAMING_KAFKA_SECRET"),
});

export const dataLake = defineS3Connection("data_lake", {
  region: "us-west-2",
  arn: "arn:aws:iam::123456789012:role/data-lake-writer",
});
