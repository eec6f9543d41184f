import Foundation

/// Just enough SVG for the report's three plots: bars with whiskers, step lines on a log
/// axis, horizontal ratio bars. Coordinates are computed here; the browser only draws.
struct SVGChart {
    let width: Double
    let height: Double
    let left = 110.0
    let top = 20.0
    var right: Double { width - 20 }
    var bottom: Double { height - 60 }
    var plotWidth: Double { right - left }
    var plotHeight: Double { bottom - top }
    private var yMax = 1.0
    private var xLow = 1.0
    private var xHigh = 10.0
    private var elements: [String] = []

    init(width: Double, height: Int, title: String) {
        self.width = width
        self.height = Double(height)
        if !title.isEmpty {
            elements.append("<text x=\"16\" y=\"\(f((top + bottom) / 2))\" transform=\"rotate(-90 16 \(f((top + bottom) / 2)))\" text-anchor=\"middle\">\(HTMLReport.escape(title))</text>")
        }
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    static func color(_ i: Int) -> String { palette[i % palette.count] }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    func y(_ value: Double) -> Double { bottom - value / yMax * plotHeight }

    func x(log value: Double) -> Double {
        left + (Foundation.log10(value) - Foundation.log10(xLow)) / (Foundation.log10(xHigh) - Foundation.log10(xLow)) * plotWidth
    }

    /// The smallest of 1, 2, 2.5 or 5 times a power of ten at or above `value`, so that
    /// five ticks land on round numbers.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(value)))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= value * 0.999_999 {
            return step * magnitude
        }
        return 10 * magnitude
    }

    mutating func yAxis(max: Double, format: (Double) -> String) {
        yMax = Self.niceCeiling(max)
        for i in 0...5 {
            let value = yMax * Double(i) / 5
            let yy = y(value)
            elements.append("<line x1=\"\(f(left))\" y1=\"\(f(yy))\" x2=\"\(f(right))\" y2=\"\(f(yy))\" stroke=\"#eee\"/>")
            elements.append("<text x=\"\(f(left - 6))\" y=\"\(f(yy + 4))\" text-anchor=\"end\">\(HTMLReport.escape(format(value)))</text>")
        }
        elements.append("<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\" stroke=\"#888\"/>")
    }

    mutating func logXAxis(low: Double, high: Double, format: (Double) -> String) {
        xLow = Foundation.pow(10, Foundation.floor(Foundation.log10(low)))
        xHigh = Foundation.pow(10, Foundation.ceil(Foundation.log10(high)))
        var tick = xLow
        while tick <= xHigh * 1.0001 {
            let xx = x(log: tick)
            elements.append("<line x1=\"\(f(xx))\" y1=\"\(f(top))\" x2=\"\(f(xx))\" y2=\"\(f(bottom))\" stroke=\"#eee\"/>")
            elements.append("<text x=\"\(f(xx))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(HTMLReport.escape(format(tick)))</text>")
            tick *= 10
        }
    }

    mutating func text(x: Double, y: Double, _ text: String, anchor: String = "start") {
        elements.append("<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\">\(HTMLReport.escape(text))</text>")
    }

    mutating func bar(x: Double, width: Double, value: Double, color: String, tooltip: String) {
        let yy = y(value)
        elements.append("<rect x=\"\(f(x))\" y=\"\(f(yy))\" width=\"\(f(width))\" height=\"\(f(bottom - yy))\" fill=\"\(color)\"><title>\(HTMLReport.escape(tooltip))</title></rect>")
    }

    mutating func whisker(x: Double, low: Double, high: Double) {
        let (a, b) = (y(low), y(high))
        elements.append("<path d=\"M\(f(x)) \(f(a))V\(f(b))M\(f(x - 4)) \(f(a))h8M\(f(x - 4)) \(f(b))h8\" stroke=\"#222\" fill=\"none\"/>")
    }

    /// A CDF drawn as steps: flat to the next value, then up.
    mutating func stepLine(_ points: [(Double, Double)], color: String, name: String) {
        guard let first = points.first else { return }
        var d = "M\(f(x(log: Swift.max(first.0, xLow)))) \(f(y(first.1)))"
        for (value, fraction) in points.dropFirst() {
            let xx = x(log: Swift.min(Swift.max(value, xLow), xHigh))
            d += "H\(f(xx))V\(f(y(fraction)))"
        }
        elements.append("<path d=\"\(d)\" stroke=\"\(color)\" stroke-width=\"2\" fill=\"none\"><title>\(HTMLReport.escape(name))</title></path>")
    }

    mutating func legend(_ names: [String]) {
        for (i, name) in names.enumerated() {
            let xx = left + Double(i % 3) * 290
            let yy = height - 30 + Double(i / 3) * 16
            elements.append("<rect x=\"\(f(xx))\" y=\"\(f(yy - 10))\" width=\"12\" height=\"12\" fill=\"\(Self.color(i))\"/>")
            elements.append("<text x=\"\(f(xx + 18))\" y=\"\(f(yy))\">\(HTMLReport.escape(name))</text>")
        }
    }

    /// Ratio bars from 0 to 1.1 with a line at 1.0, one row per entry.
    mutating func horizontalBars(_ rows: [(String, Spread)], format: (Double) -> String) {
        let labelWidth = 300.0
        let scaleMax = Swift.max(1.1, rows.map { $0.1.max }.max() ?? 1.1)
        func xx(_ v: Double) -> Double { labelWidth + v / scaleMax * (width - labelWidth - 70) }
        for (i, (name, spread)) in rows.enumerated() {
            let yy = 20 + Double(i) * 34
            elements.append("<text x=\"\(f(labelWidth - 8))\" y=\"\(f(yy + 16))\" text-anchor=\"end\">\(HTMLReport.escape(name))</text>")
            elements.append("<rect x=\"\(f(labelWidth))\" y=\"\(f(yy + 4))\" width=\"\(f(xx(spread.median) - labelWidth))\" height=\"18\" fill=\"\(Self.color(i + 1))\"/>")
            elements.append("<path d=\"M\(f(xx(spread.min))) \(f(yy + 13))H\(f(xx(spread.max)))\" stroke=\"#222\"/>")
            elements.append("<text x=\"\(f(xx(Swift.max(spread.median, spread.max)) + 6))\" y=\"\(f(yy + 17))\">\(HTMLReport.escape(format(spread.median)))</text>")
        }
        let one = xx(1)
        elements.append("<path d=\"M\(f(one)) 10V\(f(height - 10))\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>")
    }

    var svg: String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\">"
            + elements.joined() + "</svg>"
    }
}
