import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow to send a request: the whole request head must
/// arrive within `head` of the connection's accept (or of the previous response on a kept-alive
/// connection), and the whole body within `body` of the head. Defends the service against
/// clients that open connections and send nothing or trickle bytes (slowloris), which an idle
/// timeout alone does not stop: one byte every few seconds is never idle.
///
/// It also tells the server's ``ConnectionRoster`` when the connection opens, starts a request,
/// ends a response (idle again) and closes, so that at the connection cap the longest-idle
/// connection is shed.
///
/// Sits after the HTTP/1 decoder, so it sees request parts; timers run on the channel's event loop.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let head: TimeAmount
    let body: TimeAmount
    let roster: ConnectionRoster?
    private var timer: Scheduled<Void>?
    /// The channel as the roster knows it (from its activation to its close).
    private var registered: (any Channel)?

    init(head: TimeAmount, body: TimeAmount, roster: ConnectionRoster? = nil) {
        self.head = head
        self.body = body
        self.roster = roster
    }

    private func arm(_ context: ChannelHandlerContext, _ delay: TimeAmount) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) { loopBound.value.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    /// The connection is open: the head deadline runs from now, and the roster counts it.
    private func opened(_ context: ChannelHandlerContext) {
        guard registered == nil else { return }
        arm(context, head)
        registered = context.channel
        roster?.opened(context.channel)
    }

    private func closed() {
        disarm()
        if let channel = registered { roster?.closed(channel) }
        registered = nil
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { closed() }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            arm(context, body)
            if let registered { roster?.requestStarted(registered) }
        case .body: break
        case .end: disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            // The next request on a kept-alive connection gets its own head deadline.
            arm(context, head)
            if let registered { roster?.responseEnded(registered) }
        }
        context.write(data, promise: promise)
    }
}
