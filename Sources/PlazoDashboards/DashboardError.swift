/// Why a dashboard query is refused. Each case carries the sentence for the reader, in the
/// query's language, with the valid choices; ``code`` is the stable machine-readable code. The
/// HTTP statuses are the server's (`APIError+Domain.swift`).
public enum DashboardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A parameter's value is not one it takes (`lang`, `format`, `x`).
    case invalidParameter(String)
    /// A filter's value is not one of its codes, a filter is repeated, or two filters compare.
    case invalidFilter(String)
    /// A parameter no dashboard takes.
    case unknownParameter(String)
    /// No dashboard of that name.
    case unknownMetric(String)
    /// The release named is not one the reader may read, or (on the trend) none is.
    case releaseNotFound(String)
    /// No release the reader may read has been published.
    case noRelease(String)
    /// No readable release has the breakdown (and cohort) asked for; `cause` says why inside,
    /// for the service's log only.
    case unanswerable(String, cause: String?)
    /// A public reader asked for a release that is not public, or none is: reading it needs the
    /// dashboards' role.
    case notPublic(String)

    /// The stable machine-readable code.
    public var code: String {
        switch self {
        case .invalidParameter: "invalid_parameter"
        case .invalidFilter: "invalid_filter"
        case .unknownParameter: "unknown_parameter"
        case .unknownMetric: "unknown_metric"
        case .releaseNotFound: "release_not_found"
        case .noRelease: "no_release"
        case .unanswerable: "unanswerable_query"
        case .notPublic: "not_public"
        }
    }

    /// The sentence for the reader.
    public var message: String {
        switch self {
        case let .invalidParameter(m), let .invalidFilter(m), let .unknownParameter(m), let .unknownMetric(m), let .releaseNotFound(m),
            let .noRelease(m), let .unanswerable(m, _), let .notPublic(m):
            m
        }
    }

    /// The code and the sentence.
    public var description: String { "\(code): \(message)" }
}
