package dev.relay.common.rules;

/** One counter: a subject key of one kind in one window bucket, e.g. identity "demo", minute 29412345. */
public record Slot(Per per, String key, Window window, long bucket) {
}
