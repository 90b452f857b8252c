import { defineDatasource, t, engine, type InferRow } from "@tinybirdco/sdk";

// The events every sink pipe of the seed reads.
export const events = defineDatasource("events", {
  description: "Raw events: clicks, views, purchases, signups",
  schema: {
    timestamp: t.dateTime(),
    event_type: t.string(),
    user_id: t.string(),
    session_id: t.string(),
    payload: t.string(),
    amount: t.float64(),
    duration: t.float64(),
    metadata: t.string(),
  },
  engine: engine.mergeTree({
    sortingKey: ["event_type", "timestamp"],
  }),
});

export type EventsRow = InferRow<typeof events>;
