// pino, with every place a token, credential or secret could sit redacted.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { Telemetry } from './telemetry.js';

export type Logger = PinoLogger;

/** Paths censored in every log line. Routes never log bodies; these catch mistakes. */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'cookie',
  'headers.cookie',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'values',
  '*.values',
  'credentials',
  '*.credentials',
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'config',
  '*.config',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go (default stdout). Tests pass a stream that captures them. */
  stream?: DestinationStream;
  /** OpenTelemetry on: lines carry the active trace and span ids, and each (redacted) line is also an OTel log record. */
  telemetry?: Pick<Telemetry, 'logSink' | 'logIds'>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.stream ?? pino.destination({ fd: 1, sync: true }); // sync: no line lost when the process exits
  const { telemetry } = options;
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'plugboard' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      ...(telemetry ? { mixin: () => telemetry.logIds() } : {}),
    },
    // Every level the logger lets through goes to both (the logger's own level filters first).
    telemetry
      ? pino.multistream([
          { level: 'trace', stream: destination },
          { level: 'trace', stream: telemetry.logSink },
        ])
      : destination,
  );
}

/** One line per request: id, method, path (never the query: data-source calls carry unsaved config there; never a webhook's token), status, time. */
export function requestLogger(logger: Logger): MiddlewareHandler {
  // Not async where it only passes the request on (next()'s promise as it is, no wrapper).
  return (c, next) => (logger.isLevelEnabled('info') ? logged(c, next) : next());
  async function logged(c: Context, next: Next): Promise<void> {
    // The line is built only when it is written (LOG_LEVEL may be warn or silent).
    const started = performance.now();
    await next();
    const get = c.get as (key: string) => unknown;
    logger.info(
      {
        requestId: get('requestId'),
        method: c.req.method,
        // A webhook's path is its credential: logged as the route pattern.
        path: c.req.path.startsWith('/hooks/') ? '/hooks/:token' : c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        actor: get('actor'),
      },
      'request',
    );
  }
}
