/**
 * The admin API for the relay rules ({@code /api/rules}): read, validate, replace with optimistic concurrency,
 * and a dry run with the engine bean; who may use it is Keycloak's decision
 * ({@link dev.relay.policy.api.KeycloakPermissionPolicy}, docs/adr/0004).
 */
package dev.relay.policy.api;
