import NIOCore
import NIOPosix
import PlazoStore

/// Where async code runs blocking work: store calls (every one of them, token checks included),
/// batch verification with its WAL sync, release computation. A bounded pool of threads of its own,
/// never Swift's cooperative pool, which has one thread per core (two on a small server): a store
/// call that waits for a lock, a disk or a PostgreSQL round trip there would stall every other
/// request, `/healthz` included.
///
/// The pool has twice as many threads as cores and at least eight: a release computed for seconds
/// never holds all of them while batches and reads wait, and on PostgreSQL it matches the store's
/// default pool of eight connections, so a thread here rarely waits for a connection. It is started
/// once and lives as long as the process.
///
/// When the store itself becomes asynchronous (PostgreSQL through `PostgresClient`, SQLite through
/// GRDB's async access; issue 23, item 1), its calls leave this pool; the CPU-heavy work stays.
public enum Blocking {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(8, 2 * System.coreCount))
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and returns its result or rethrows its typed error; the calling task
    /// is suspended meanwhile, leaving its thread to other requests.
    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            pool.submit { state in
                // The pool is never stopped (see above), so every submitted item runs.
                precondition(state == .active, "the blocking pool was stopped")
                continuation.resume(returning: Result { () throws(E) -> T in try body() })
            }
        }
        return try result.get()
    }

    /// Runs `body`, which only **reads** `store`, where it costs least without stalling others:
    /// inline when the store's reads never wait (``AppDatabase/readsCanWait``: a SQLite file in WAL
    /// mode), on the pool when they can (PostgreSQL). Measured on the dashboards (`plazo-perf
    /// dashboard`, 16 clients, 2 cores): two hops per request cost 30 % of the throughput, for reads
    /// that take microseconds and wait for nothing. Writes, and reads that also do heavy work, use
    /// ``run(_:)``.
    public static func read<T: Sendable, E: Error>(
        _ store: AppDatabase, _ body: @escaping @Sendable () throws(E) -> T
    ) async throws(E) -> T {
        if !store.readsCanWait { return try body() }
        return try await run(body)
    }
}
