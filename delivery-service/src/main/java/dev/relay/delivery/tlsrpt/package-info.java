/**
 * TLS-RPT (RFC 8460, docs/adr/0016): each MX delivery attempt's TLS outcome becomes a compact record on the TLS-RPT
 * topic ({@link dev.relay.delivery.tlsrpt.TlsRptRecorder}); the instance that owns a partition aggregates it per
 * window ({@link dev.relay.delivery.tlsrpt.TlsRptAggregator}, {@link dev.relay.delivery.tlsrpt.WindowAggregate})
 * and, when the window closes, sends the RFC 8460 report ({@link dev.relay.delivery.tlsrpt.TlsReport}) to the
 * {@code rua} of each policy domain ({@link dev.relay.delivery.tlsrpt.RuaRecord}) by HTTPS
 * ({@link dev.relay.delivery.tlsrpt.ReportPoster}) or mail ({@link dev.relay.delivery.tlsrpt.ReportMail}).
 */
package dev.relay.delivery.tlsrpt;
