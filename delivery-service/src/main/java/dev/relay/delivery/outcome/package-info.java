/**
 * The result of a delivery attempt as data, shared by the SMTP client ({@code transport}), routing ({@code mx}),
 * the retry decision ({@code retry}), the DSN ({@code dsn}), events ({@code messaging}) and metrics: per
 * recipient a {@link dev.relay.delivery.outcome.DeliveryStatus}, a {@link dev.relay.delivery.outcome.Diagnostic}
 * (phase, reply code, enhanced status, text) and the {@link dev.relay.delivery.outcome.RemoteHost} that
 * answered. The code and the enhanced status are taken once, where the reply is read or the reason decided; the
 * layers above read the fields and never parse the text back. It imports nothing of the delivery.
 */
package dev.relay.delivery.outcome;
