// The hls.js fragment loader (config.fLoader). Media segments of a swarm go
// through the Engine (peers when the schedule allows, else HTTP); init
// segments, parts and byte ranges go straight to hls.js's own loader.
// Every peer segment is verified before onSuccess hands it to hls.js.

const now = () => performance.now();

function newLoadStats() {
  return {
    aborted: false,
    loaded: 0,
    retry: 0,
    total: 0,
    chunkCount: 0,
    bwEstimate: 0,
    loading: { start: 0, first: 0, end: 0 },
    parsing: { start: 0, end: 0 },
    buffering: { start: 0, first: 0, end: 0 },
  };
}

// createFragmentLoader returns a loader class bound to engine, for
// new Hls({fLoader: createFragmentLoader(engine)}).
export function createFragmentLoader(engine) {
  return class P2PFragmentLoader {
    constructor(config) {
      this.config = config;
      this.http = null;
      this.context = null;
      this.callbacks = null;
      this.stats = newLoadStats();
      this.job = null;
      this.aborted = false;
      this.finished = false;
    }

    load(context, loaderConfig, callbacks) {
      this.context = context;
      this.callbacks = callbacks;
      this.stats.loading.start = now();
      const job = engine.job(context, () => this.aborted);
      this.job = job;
      if (!job) {
        this.loadHTTP(loaderConfig, null);
        return;
      }
      job.run().then(
        (got) => this.settle(got, loaderConfig),
        () => this.settle(null, loaderConfig),
      );
    }

    settle(got, loaderConfig) {
      if (this.aborted || !this.callbacks) {
        if (this.job) this.job.done();
        return;
      }
      if (!got) {
        this.loadHTTP(loaderConfig, this.job);
        return;
      }
      const st = this.stats;
      const n = got.data.byteLength;
      const t = now();
      if (got.timing) {
        // Describe the transfer that delivered the bytes, not the time spent
        // asking the tracker and waiting for a free peer, so hls.js's
        // bandwidth estimate reflects the peer link.
        st.loading.start = got.timing.start;
        st.loading.first = got.timing.first;
      } else {
        st.loading.first = t;
      }
      st.loading.end = t;
      st.loaded = st.total = n;
      st.chunkCount = 1;
      const cb = this.callbacks;
      this.finished = true;
      cb.onSuccess({ url: this.context.url, data: got.data, code: 200 }, st, this.context, { source: got.source, peer: got.peer, httpBytes: got.tail || 0 });
    }

    // loadHTTP runs hls.js's default loader with our stats object; with a
    // job, the bytes are copied into the store before hls.js gets them
    // (hls.js may transfer the buffer to its worker).
    loadHTTP(loaderConfig, job) {
      const Loader = this.config.loader;
      const http = new Loader(this.config);
      this.http = http;
      // hls.js loaders refuse stats that already have a start time.
      this.stats.loading.start = 0;
      this.stats.aborted = false;
      http.stats = this.stats;
      const cb = this.callbacks;
      http.load(this.context, loaderConfig, {
        onSuccess: (response, stats, context, details) => {
          this.finished = true;
          const data = response.data;
          if (data instanceof ArrayBuffer) {
            if (job) job.httpDone(data.slice(0));
            else if (context.frag && typeof context.frag.sn === 'number') engine.httpBytes(data.byteLength);
          } else if (job) {
            job.done();
          }
          cb.onSuccess(response, stats, context, details);
        },
        onError: (error, context, details, stats) => {
          this.finished = true;
          if (job) job.httpFailed(false);
          cb.onError(error, context, details, stats);
        },
        onTimeout: (stats, context, details) => {
          this.finished = true;
          if (job) job.httpFailed(true);
          cb.onTimeout(stats, context, details);
        },
        onAbort: (stats, context, details) => {
          if (job) job.done();
          if (cb.onAbort) cb.onAbort(stats, context, details);
        },
        onProgress: cb.onProgress,
      });
    }

    // abort stops a running load and reports onAbort (hls.js seeks, level
    // switches); it does nothing once the load finished.
    abort() {
      if (this.aborted || this.finished) return;
      this.aborted = true;
      this.stats.aborted = true;
      if (this.http) {
        this.http.abort(); // calls onAbort through the wrapped callbacks
        return;
      }
      if (this.job) this.job.done();
      const cb = this.callbacks;
      if (cb && cb.onAbort) cb.onAbort(this.stats, this.context, null);
    }

    // destroy releases everything without calling back (hls.js destroys
    // every loader after its load, successful or not).
    destroy() {
      this.callbacks = null;
      if (!this.aborted && !this.finished) {
        this.aborted = true;
        if (this.job) this.job.done();
      }
      if (this.http) this.http.destroy();
      this.http = null;
      this.context = null;
    }

    getCacheAge() {
      return this.http && this.http.getCacheAge ? this.http.getCacheAge() : null;
    }

    getResponseHeader(name) {
      return this.http && this.http.getResponseHeader ? this.http.getResponseHeader(name) : null;
    }
  };
}
