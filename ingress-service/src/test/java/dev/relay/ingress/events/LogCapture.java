package dev.relay.ingress.events;

import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures every log record of the running application as it is published (on the logging thread, so the MDC read
 * is the one the line would be printed with), formatted message and {@code messageId} from the MDC. Installed on
 * the root logger for the duration of a test; bounded: records beyond the first 20,000 are not kept.
 */
final class LogCapture extends Handler implements AutoCloseable {

    /**
     * One captured line: category, level, formatted text (with the thrown exception's text), MDC messageId, and the
     * line as the console's formatter writes it when that is the JSON formatter (else null).
     */
    record Line(String category, Level level, String text, String messageId, String json) {
    }

    private static final int MAX = 20_000;
    private final List<Line> lines = new CopyOnWriteArrayList<>();
    private final Logger root = Logger.getLogger("");
    private final Formatter json = jsonFormatter(Logger.getLogger("").getHandlers());

    private LogCapture() {
        setLevel(Level.ALL);
        root.addHandler(this);
    }

    /** Captures at the levels the application's configuration enables, until closed. */
    static LogCapture start() {
        return new LogCapture();
    }

    @Override
    public void publish(LogRecord record) {
        if (lines.size() >= MAX) {
            return;
        }
        String text;
        String id = null;
        if (record instanceof ExtLogRecord ext) {
            text = ext.getFormattedMessage();
            id = ext.getMdc("messageId");
        } else {
            text = record.getMessage();
        }
        if (record.getThrown() != null) {
            text = text + " " + record.getThrown();
        }
        lines.add(new Line(record.getLoggerName(), record.getLevel(), text, id,
                json == null ? null : json.format(record)));
    }

    /** The console's formatter when it writes JSON (the switch is on), looked for behind async/delayed handlers. */
    private static Formatter jsonFormatter(Handler[] handlers) {
        for (Handler handler : handlers) {
            Formatter formatter = handler.getFormatter();
            if (formatter != null && formatter.getClass().getName().contains("Json")) {
                return formatter;
            }
            if (handler instanceof ExtHandler ext) {
                Formatter nested = jsonFormatter(ext.getHandlers());
                if (nested != null) {
                    return nested;
                }
            }
        }
        return null;
    }

    List<Line> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        root.removeHandler(this);
    }
}
