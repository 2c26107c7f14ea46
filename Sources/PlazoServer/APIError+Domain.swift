import HTTPTypes
import Hummingbird
import PlazoDashboards
import PlazoIngest
import PlazoReleases
import PlazoStore
import PlazoWire

// How the domain errors of the libraries answer over HTTP: the only place that knows both.

extension IngestError {
    /// The answer to a refused batch (`specs/openapi.yaml`, `POST /v1/batches`).
    var apiError: APIError {
        let status: HTTPResponse.Status =
            switch self {
            case let .batch(error):
                switch error {
                case .tooLarge: .contentTooLarge
                case .unknownAgency, .unknownSigningKey, .revokedSigningKey, .signatureInvalid, .unknownServiceKey: .forbidden
                case .truncated, .badMagic, .unsupportedVersion, .reservedNotZero, .recordCountOutOfRange, .lengthMismatch,
                    .timestampInFuture, .timestampTooOld, .payloadOpenFailed, .payloadHeaderMismatch:
                    .unprocessableContent
                }
            case .batchIDReused: .conflict
            case .storeUnavailable: .serviceUnavailable
            }
        return APIError(status, code, description)
    }
}

extension ReleaseError {
    /// The answer to a release operation that failed.
    var apiError: APIError {
        switch self {
        case .invalidSpec: APIError(.unprocessableContent, code, description)
        case .budgetExceeded: APIError(.conflict, code, description)
        case .notFound, .draftNotFound: APIError(.notFound, code, description)
        case .draftNotPublishable, .invalidTransition: APIError(.conflict, code, description)
        case .invalidQuery: APIError(.badRequest, code, description)
        case .noise, .store, .corruptDocument:
            APIError(
                .serviceUnavailable, "store_unavailable", "the release could not be computed or stored; nothing was spent",
                cause: "\(code): \(description)")
        }
    }
}

extension RegistryError {
    /// The answer to an agency-registry operation that failed.
    var apiError: APIError {
        switch self {
        case .duplicateName, .keyAlreadyRegistered, .noActiveKey: APIError(.conflict, code, description)
        case .unknownAgency, .unknownKey: APIError(.notFound, code, description)
        case .invalidName: APIError(.unprocessableContent, code, description)
        case .database: APIError(.serviceUnavailable, "store_unavailable", "the registry could not be read or written")
        }
    }
}

extension TokenError {
    /// The answer to a token operation that failed.
    var apiError: APIError {
        switch self {
        case .invalidName: APIError(.unprocessableContent, code, description)
        case .duplicateName, .alreadyRevoked: APIError(.conflict, code, description)
        case .unknownToken: APIError(.notFound, code, description)
        case .malformed, .unknown, .revoked, .crypto, .database:
            APIError(.serviceUnavailable, "store_unavailable", "the token store could not be read or written")
        }
    }
}

extension AgencyRequestSignature.Failure {
    /// The answer to a receipt request whose signature does not authenticate it.
    var apiError: APIError {
        APIError(status, code, description, headers: [.wwwAuthenticate: AgencyRequestSignature.scheme])
    }
}

extension DashboardError {
    /// The answer to a refused dashboard query. A release that is not public, refused to a public
    /// reader, is a 401 without a token and a 403 with a token of another role
    /// (``PublicOrRole/notPublic(_:context:role:)``), never a 404.
    func apiError(context: PlazoRequestContext) -> APIError {
        switch self {
        case .invalidParameter, .invalidFilter, .unknownParameter: APIError(.badRequest, code, message)
        case .unknownMetric, .releaseNotFound, .noRelease: APIError(.notFound, code, message)
        case let .unanswerable(_, cause): APIError(.unprocessableContent, code, message, cause: cause)
        case .notPublic: PublicOrRole.notPublic(message, context: context, role: .oversight)
        }
    }
}
