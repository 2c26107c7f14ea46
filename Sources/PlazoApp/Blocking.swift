import NIOCore
import NIOPosix
import PlazoStore

/// Where async code runs long CPU work that is not the store's: deflating a release's Data
/// Package archive, for one. A bounded pool of threads of its own, never Swift's cooperative pool,
/// which has one thread per core (two on a small server): seconds of work there would stall every
/// other request, `/healthz` included.
///
/// The store needs none of this: its calls are `async` and suspend while it works (PostgreSQL
/// through `PostgresClient`; SQLite on GRDB's own queue, see `SQLConnection` in PlazoStore).
///
/// The pool has twice as many threads as cores and at least eight. It is started once and lives
/// as long as the process.
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
}
