import Synchronization

/// A lock for `async` sections that span store calls: one section at a time, and a task that
/// waits for it is suspended, not blocked (a `Mutex` cannot be held across an `await`). First come,
/// first served.
///
/// For sections that must not overlap but wait for the store, such as a case-index snapshot's
/// write (``withLock(_:)``); the store's own writer is serialised by the store.
public final class AsyncGate: Sendable {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// An open gate.
    public init() {}

    /// Runs `body` alone: waits (suspended) until no other section runs, and opens the gate to
    /// the next waiter when `body` returns or throws.
    public func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s in
                if !s.held {
                    s.held = true
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func leave() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.held = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
