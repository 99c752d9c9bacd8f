package dev.relay.delivery.transport;

/**
 * What happened to one recipient at one hop.
 *
 * @param recipient the forward path
 * @param status    delivered, transient or permanent
 * @param detail    the remote reply ({@code 550 5.1.1 ...}) or our own reason, in reply form
 * @param remote    the host that answered ({@code mx.example.org[192.0.2.1]:25}), or null if none did
 */
public record RecipientResult(String recipient, DeliveryStatus status, String detail, String remote) {
}
