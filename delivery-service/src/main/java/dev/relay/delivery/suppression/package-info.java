/**
 * The suppression list in the delivery (docs/adr/0015): which hard bounces add an entry ({@link
 * dev.relay.delivery.suppression.SuppressionPolicy}), the check before an attempt ({@link
 * dev.relay.delivery.suppression.Suppressions}) and the acknowledged writes ({@link
 * dev.relay.delivery.suppression.SuppressionWriter}).
 */
package dev.relay.delivery.suppression;
