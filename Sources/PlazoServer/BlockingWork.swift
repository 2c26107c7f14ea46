import NIOCore
import NIOPosix

/// Blocking work (batch verification and its WAL sync, release computation) runs on a bounded
/// pool of threads of its own, leaving Swift's cooperative pool free to serve other requests.
enum BlockingWork {
    /// The pool: at least 4 threads, so that a release computed for seconds never holds every
    /// thread while batches wait (a batch waits only for the case index's lock, whose holder is
    /// always running). Started once, lives as long as the process.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(4, System.coreCount))
        pool.start()
        return pool
    }()
}

/// Runs `body` on ``BlockingWork/pool`` and returns its result.
func offload<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws -> T {
    try await BlockingWork.pool.runIfActive(body)
}
