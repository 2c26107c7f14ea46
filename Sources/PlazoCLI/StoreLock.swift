import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// OS advisory locks (`flock`) beside the SQLite store, so that release pins are only ever set
/// by the process that serves them (`docs/privacy-model.md` §4).
///
/// - `plazo serve` holds `<db>.lock` **exclusively** for as long as it runs: a second service on
///   the same store is refused, and so is any CLI command that would store a release.
/// - `plazo release create` / `publish` hold `<db>.lock` **shared** (refused at once if a service
///   holds it, naming `POST /v1/releases`), then `<db>.release.lock` exclusively, waiting for
///   it: CLI releases on one store run one after another, each replaying the log with the pins
///   of every release stored before it.
///
/// Why: pins live in the serving process's memory. A release stored by another process would
/// pin cases the service does not know about until its next restart. The kernel drops a lock
/// when its process exits, however it exits (kill -9 included): a stale lock file is harmless.
final class StoreLock {
    private var fds: [Int32] = []

    /// Why a lock could not be taken.
    enum Failure: Error, CustomStringConvertible {
        case held(path: String)
        case cannotOpen(path: String, errno: Int32)
        var description: String {
            switch self {
            case let .held(path): "another plazo process holds the store (lock \(path))"
            case let .cannotOpen(path, e): "cannot open the lock file \(path): \(String(cString: strerror(e)))"
            }
        }
    }

    private init() {}

    private func take(_ path: String, _ operation: Int32) throws(Failure) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
        var rc: Int32
        repeat { rc = flock(fd, operation) } while rc != 0 && errno == EINTR
        if rc != 0 {
            close(fd)
            throw .held(path: path)
        }
        fds.append(fd)
    }

    deinit {
        for fd in fds.reversed() {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    /// The lock for `plazo serve`, or a sentence saying why the service cannot start.
    static func forService(db: String) throws -> StoreLock {
        let lock = StoreLock()
        do { try lock.take(db + ".lock", LOCK_EX | LOCK_NB) } catch let .held(path) {
            throw CLIRefusal("another plazo process already holds the SQLite store \(db) (lock \(path)): a second `plazo serve` on the same SQLite file is refused, because each would count events from its own memory; and a service start waits for a CLI release to finish. To run several replicas, put the store in PostgreSQL (`plazo store copy --from \(db) --to postgres://…`, then `plazo serve --database postgres://…` on each; docs/operations.md, \"Several nodes\"). Otherwise stop the other process, or give another --db.")
        } catch { throw CLIRefusal("\(error)") }
        return lock
    }

    /// The lock for `plazo snapshot`: exclusive, as for the service, which writes its own snapshot.
    static func forSnapshot(db: String) throws -> StoreLock {
        let lock = StoreLock()
        do { try lock.take(db + ".lock", LOCK_EX | LOCK_NB) } catch let .held(path) {
            throw CLIRefusal("another plazo process holds the store \(db) (lock \(path)): a running service writes its own case-index snapshot (in the background and when it stops), and a CLI release must finish first. Nothing was written.")
        } catch { throw CLIRefusal("\(error)") }
        return lock
    }

    /// The lock for `plazo store copy` from a SQLite store: exclusive, so that no service accepts a
    /// batch the copy would miss.
    static func forCopy(db: String) throws -> StoreLock {
        let lock = StoreLock()
        do { try lock.take(db + ".lock", LOCK_EX | LOCK_NB) } catch let .held(path) {
            throw CLIRefusal("a plazo process holds the store \(db) (lock \(path)): stop the service first, so that no batch is accepted during the copy. Nothing was written.")
        } catch { throw CLIRefusal("\(error)") }
        return lock
    }

    /// The locks for commands that store releases, or a sentence pointing at the running service.
    static func forRelease(db: String) throws -> StoreLock {
        let lock = StoreLock()
        do { try lock.take(db + ".lock", LOCK_SH | LOCK_NB) } catch let .held(path) {
            throw CLIRefusal("a plazo service is running on the store \(db) (lock \(path) is held): create and publish releases through it (POST /v1/releases, POST /v1/release-drafts/{id}/publish), so that it pins the release's cohorts in the case state it serves. Nothing was written.")
        } catch { throw CLIRefusal("\(error)") }
        do { try lock.take(db + ".release.lock", LOCK_EX) } catch { throw CLIRefusal("\(error)") }
        return lock
    }
}

/// A refusal the CLI prints as one sentence (exit status 1).
struct CLIRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
