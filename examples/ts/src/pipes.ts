import { defineSinkPipe, node } from "@tinybirdco/sdk";
import {
  eventsKafka,
  landingS3,
  dataWarehouse,
  streamingKafka,
  dataLake,
} from "./connections";

// Create Kafka sink pipe
export const kafkaEventsSink = defineSinkPipe("kafka_events_sink", {
  description: "Export events to Kafka",
  sink: {
    connection: eventsKafka,
    topic: "events_export",
    schedule: "@on-demand",
  },
  nodes: [
    node({
      name: "publish",
      sql: `
        SELECT timestamp, event_type, user_id, payload
        FROM events
        WHERE timestamp >= now() - interval 1 hour
      `,
    }),
  ],
});

export const hourlyEventsToKafka = defineSinkPipe("hourly_events_to_kafka", {
  description: "Export hourly events to Kafka",
  sink: {
    connection: eventsKafka,
    topic: "hourly_events",
    schedule: "0 * * * *", // Every hour
  },
  nodes: [
    node({
      name: "hourly_export",
      sql: `
        SELECT
          toStartOfHour(timestamp) AS hour,
          event_type,
          count() AS event_count,
          uniqExact(user_id) AS unique_users
        FROM events
        WHERE timestamp >= toStartOfHour(now()) - interval 1 hour
          AND timestamp < toStartOfHour(now())
        GROUP BY hour, event_type
      `,
    }),
  ],
});

// Create S3 sink pipe
export const s3EventsSink = defineSinkPipe("s3_events_sink", {
  description: "Export events to S3",
  sink: {
    connection: landingS3,
    bucketUri: "s3://my-bucket/exports/",
    fileTemplate: "events_{date}",
    format: "csv",
    schedule: "@once",
    strategy: "create_new",
  },
  nodes: [
    node({
      name: "export",
      sql: `
        SELECT timestamp, session_id, event_type
        FROM events
        WHERE toDate(timestamp) = today() - 1
      `,
    }),
  ],
});

export const dailyExport = defineSinkPipe("daily_export", {
  description: "Daily export of aggregated events to data warehouse",
  sink: {
    connection: dataWarehouse,
    bucketUri: "s3://data-warehouse/tinybird/daily/",
    fileTemplate: "events_{date}.csv",
    format: "csv",
    schedule: "0 1 * * *", // Daily at 1 AM
    strategy: "create_new",
    compression: "gzip",
  },
  nodes: [
    node({
      name: "daily_aggregation",
      sql: `
        SELECT
          toDate(timestamp) AS date,
          event_type,
          count() AS event_count,
          uniqExact(user_id) AS unique_users,
          avg(duration) AS avg_duration
        FROM events
        WHERE toDate(timestamp) = yesterday()
        GROUP BY date, event_type
        ORDER BY event_count DESC
      `,
    }),
  ],
});

export const realtimeEventStream = defineSinkPipe("realtime_event_stream", {
  description: "Stream high-value events to Kafka in real-time",
  sink: {
    connection: streamingKafka,
    topic: "high_value_events",
    schedule: "*/5 * * * *", // Every 5 minutes
  },
  nodes: [
    node({
      name: "high_value_events",
      sql: `
        SELECT
          timestamp,
          user_id,
          event_type,
          amount,
          metadata
        FROM events
        WHERE timestamp >= now() - interval 5 minute
          AND amount > 1000
        ORDER BY timestamp
      `,
    }),
  ],
});

export const dailyPartitionExport = defineSinkPipe("daily_partition_export", {
  description: "Export daily partitions to data lake",
  sink: {
    connection: dataLake,
    bucketUri: "s3://data-lake/events/year={year}/month={month}/day={day}/",
    fileTemplate: "events_{date}_{time}",
    format: "ndjson",
    schedule: "0 2 * * *", // 2 AM daily
    strategy: "create_new",
    compression: "gzip",
  },
  nodes: [
    node({
      name: "partition_export",
      sql: `
        SELECT *
        FROM events
        WHERE toDate(timestamp) = yesterday()
        ORDER BY timestamp
      `,
    }),
  ],
});
