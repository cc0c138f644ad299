// Just the part of autocannon's API the benchmarks use (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      setupRequest?: (req: Request, context: Record<string, unknown>) => Request;
      /** Called with each answer's status and body. */
      onResponse?: (status: number, body: string) => void;
    }
    /** One connection's client, as `setupClient` gets it. */
    interface Client {
      setRequests(requests: Request[]): void;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      amount?: number;
      /** Requests per second over all connections (a fixed arrival rate); absent: as fast as answers come. */
      overallRate?: number;
      headers?: Record<string, string>;
      method?: string;
      body?: string;
      requests?: Request[];
      /** Called with each connection's client when it is made. */
      setupClient?: (client: Client) => void;
    }
    interface Histogram {
      average: number;
      p50: number;
      p99: number;
    }
    interface Result {
      requests: Histogram;
      latency: Histogram;
      errors: number;
      non2xx: number;
      timeouts: number;
      '2xx': number;
      '3xx': number;
      '4xx': number;
      '5xx': number;
      /** Answers by HTTP status code. */
      statusCodeStats?: Record<string, { count: number }>;
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
