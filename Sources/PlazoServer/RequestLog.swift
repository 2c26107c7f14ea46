import Foundation
import Hummingbird
import Logging

/// One log line per request: method, path **without its query string**, status and duration.
///
/// Never logged: the query string (a token wrongly sent as `?access_token=` must not end up in the
/// log), any header (`Authorization` above all), any body. Handlers add their own lines with ids
/// and reason codes only (`docs/api-guide.md`, "Logs").
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        func log(_ status: Int) {
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            context.logger.log(
                level: level, "request",
                metadata: [
                    "http.method": "\(request.method.rawValue)", "http.path": "\(request.uri.path)",
                    "http.status": "\(status)", "http.duration_ms": "\(String(format: "%.1f", ms))",
                ])
        }
        do {
            let response = try await next(request, context)
            log(response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            log(error.status.code)
            throw error
        } catch {
            log(500)
            throw error
        }
    }
}
