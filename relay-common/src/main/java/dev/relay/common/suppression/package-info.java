/**
 * The suppression list (issue 15, docs/adr/0015): addresses that hard-bounced (or that an administrator added)
 * and that mail is not attempted to for a while. The entry record, its JSON codec, the bounded in-memory list and
 * the follower of the compacted topic {@code relay.suppression.v1} that fills it; shared by the delivery service
 * (check before each attempt, add after a hard bounce) and the policy service (admin API).
 */
package dev.relay.common.suppression;
