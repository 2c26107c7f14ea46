import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The OS advisory lock (`flock`) on `<db>.lock` beside the SQLite store, held by `plazo serve`
/// for as long as it runs and by `plazo release create` / `plazo release publish` while they
/// compute and store a release.
///
/// Why: release pins live in the serving process's memory (`docs/privacy-model.md` §4). A release
/// stored by another process would pin cases the service does not know about until its next
/// restart, so while a service holds the store, releases must go through it. The kernel releases
/// the lock when the process exits, however it exits (kill -9 included): a stale lock file is
/// harmless.
final class StoreLock {
    /// The lock file path for a database path.
    static func path(for db: String) -> String { db + ".lock" }

    private let fd: Int32

    /// Why the lock could not be taken.
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

    /// Takes the exclusive lock without waiting, or throws ``Failure/held(path:)``.
    init(db: String) throws(Failure) {
        let path = Self.path(for: db)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw .cannotOpen(path: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw .held(path: path)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

extension StoreLock {
    /// The lock for `plazo serve`, or a sentence saying why the service cannot start.
    static func forService(db: String) throws -> StoreLock {
        do { return try StoreLock(db: db) } catch let .held(path) {
            throw CLIRefusal("another plazo process already holds the store \(db) (lock \(path)): a second `plazo serve` on the same store is refused, and a release being created by the CLI holds it too. Stop the other process, or give another --db.")
        } catch { throw CLIRefusal("\(error)") }
    }

    /// The lock for commands that store releases, or a sentence pointing at the running service.
    static func forRelease(db: String) throws -> StoreLock {
        do { return try StoreLock(db: db) } catch let .held(path) {
            throw CLIRefusal("a plazo service is running on the store \(db) (lock \(path) is held): create and publish releases through it (POST /v1/releases, POST /v1/release-drafts/{id}/publish), so that it pins the release's cohorts in the case state it serves. Nothing was written.")
        } catch { throw CLIRefusal("\(error)") }
    }
}

/// A refusal the CLI prints as one sentence (exit status 1).
struct CLIRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
