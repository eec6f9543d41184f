import BridgeTraceCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves GET /metrics (the Prometheus text format, rendered by swift-prometheus) over
/// NIO's HTTP/1 server, on one event-loop thread. The socket is bound when this is made,
/// in the namespace of the calling thread: make it before any thread enters another
/// namespace, so the exporter listens where it was started whatever --netns says.
public final class MetricsServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    public let address: ListenAddress

    public init(address: ListenAddress, metrics: ExporterMetrics) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw UserError("cannot listen on \(address): \(Self.reason(error))")
        }
        var bound = address
        if let port = channel.localAddress?.port { bound.port = port }
        self.address = bound
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError {
            switch error.errnoCode {
            case EADDRINUSE: return "the port is in use (another exporter?); pick another with --listen ADDR:PORT"
            case EADDRNOTAVAIL: return "no interface here has that address; use 127.0.0.1, an address of this host, or :PORT"
            case EACCES: return "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE); use a port above 1024"
            default: break
            }
        }
        return "\(error)"
    }

    /// Stops listening and closes open connections.
    public func close() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// One HTTP/1 connection: /metrics, a short index at /, 404 elsewhere; GET and HEAD only.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: ExporterMetrics
    private var head: HTTPRequestHead?

    init(metrics: ExporterMetrics) {
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead): head = requestHead
        case .body: break
        case .end:
            if let head { respond(to: head, context: context) }
            head = nil
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        let body: [UInt8]
        if request.method != .GET && request.method != .HEAD {
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
            body = Array("only GET and HEAD\n".utf8)
        } else if path == "/metrics" {
            status = .ok
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            body = metrics.registry.emitToBuffer()
        } else if path == "/" {
            status = .ok
            headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
            body = Array("<html><head><title>bridgetrace exporter</title></head><body><h1>bridgetrace exporter</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n".utf8)
        } else {
            status = .notFound
            body = Array("not found; the metrics are at /metrics\n".utf8)
        }
        if status != .ok || headers["Content-Type"].isEmpty {
            headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        headers.add(name: "Content-Length", value: String(body.count))
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
