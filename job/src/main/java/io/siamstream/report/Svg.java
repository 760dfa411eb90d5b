package io.siamstream.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Inline SVG charts for the report, written as text: line charts (one polyline per series, one coordinate pair per
 * record with a finite value, so a reader can count them), horizontal reference lines (healthy values, baselines),
 * bar charts and scatter maps.
 */
final class Svg {

    static final String[] PALETTE = {
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"
    };

    private static final int WIDTH = 480;
    private static final int HEIGHT = 250;
    private static final int LEFT = 58;
    private static final int RIGHT = 14;
    private static final int TOP = 14;
    private static final int BOTTOM = 40;
    /** Series with at most this many points also get a marker per point (a single point draws no line). */
    private static final int MARKERS_UP_TO = 60;

    record Series(String name, String color, double[] xs, double[] ys) {}

    record Reference(String name, String color, double value) {}

    private Svg() {}

    static String lineChart(String id, String xLabel, List<Series> series, List<Reference> references) {
        double xMin = Double.POSITIVE_INFINITY;
        double xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.xs().length; i++) {
                if (Double.isFinite(s.xs()[i]) && Double.isFinite(s.ys()[i])) {
                    xMin = Math.min(xMin, s.xs()[i]);
                    xMax = Math.max(xMax, s.xs()[i]);
                    yMin = Math.min(yMin, s.ys()[i]);
                    yMax = Math.max(yMax, s.ys()[i]);
                }
            }
        }
        for (Reference r : references) {
            if (Double.isFinite(r.value())) {
                yMin = Math.min(yMin, r.value());
                yMax = Math.max(yMax, r.value());
            }
        }
        if (!Double.isFinite(xMin)) {
            xMin = 0;
            xMax = 1;
        }
        if (!Double.isFinite(yMin)) {
            yMin = 0;
            yMax = 1;
        }
        if (xMax == xMin) {
            xMin -= 1;
            xMax += 1;
        }
        if (yMax == yMin) {
            double pad = Math.max(Math.abs(yMin) * 0.1, 1e-3);
            yMin -= pad;
            yMax += pad;
        }
        double[] yTicks = ticks(yMin, yMax);
        double[] xTicks = ticks(xMin, xMax);
        yMin = Math.min(yMin, yTicks[0]);
        yMax = Math.max(yMax, yTicks[yTicks.length - 1]);
        Scale sx = new Scale(xMin, xMax, LEFT, WIDTH - RIGHT);
        Scale sy = new Scale(yMin, yMax, HEIGHT - BOTTOM, TOP);

        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg class=\"chart\" id=\"%s\" data-chart=\"%s\" viewBox=\"0 0 %d %d\""
                + " width=\"%d\" height=\"%d\" role=\"img\">", id, id, WIDTH, HEIGHT, WIDTH, HEIGHT));
        axes(b, sx, sy, xTicks, yTicks, xLabel);
        for (Reference r : references) {
            if (Double.isFinite(r.value())) {
                double y = sy.at(r.value());
                b.append(String.format(Locale.ROOT, "<line class=\"reference\" data-reference=\"%s\" x1=\"%d\" x2=\"%d\""
                                + " y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"5 4\" data-tip=\"%s\"/>",
                        Html.escape(r.name()), LEFT, WIDTH - RIGHT, y, y, r.color(),
                        Html.escape(r.name() + ": " + number(r.value()))));
            }
        }
        for (Series s : series) {
            List<String> points = new ArrayList<>();
            StringBuilder markers = new StringBuilder();
            for (int i = 0; i < s.xs().length; i++) {
                if (Double.isFinite(s.xs()[i]) && Double.isFinite(s.ys()[i])) {
                    double x = sx.at(s.xs()[i]);
                    double y = sy.at(s.ys()[i]);
                    points.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
                    markers.append(String.format(Locale.ROOT, "<circle class=\"marker\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\""
                                    + " fill=\"%s\" data-tip=\"%s\"/>", x, y, s.color(),
                            Html.escape(s.name() + " at " + number(s.xs()[i]) + ": " + number(s.ys()[i]))));
                }
            }
            b.append(String.format(Locale.ROOT, "<polyline class=\"series\" data-series=\"%s\" data-count=\"%d\""
                            + " fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>",
                    Html.escape(s.name()), points.size(), s.color(), String.join(" ", points)));
            if (points.size() <= MARKERS_UP_TO) {
                b.append(markers);
            }
        }
        legend(b, series, references);
        return b.append("</svg>").toString();
    }

    static String barChart(String id, Map<String, Long> bars) {
        int rowHeight = 22;
        int height = TOP + BOTTOM / 2 + Math.max(1, bars.size()) * rowHeight;
        long max = bars.values().stream().mapToLong(Long::longValue).max().orElse(1);
        int labelWidth = 170;
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "<svg class=\"chart\" id=\"%s\" data-chart=\"%s\""
                + " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">", id, id, WIDTH, height, WIDTH, height));
        int row = 0;
        for (Map.Entry<String, Long> e : bars.entrySet()) {
            int y = TOP + row * rowHeight;
            double w = (WIDTH - labelWidth - 60) * (double) e.getValue() / Math.max(1, max);
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"label\">%s</text>",
                    labelWidth - 6, y + 14, Html.escape(e.getKey())));
            b.append(String.format(Locale.ROOT, "<rect class=\"bar\" data-reason=\"%s\" x=\"%d\" y=\"%d\" width=\"%.1f\""
                            + " height=\"%d\" fill=\"%s\" data-tip=\"%s\"/>", Html.escape(e.getKey()), labelWidth, y + 3,
                    Math.max(w, 1), rowHeight - 6, PALETTE[2], Html.escape(e.getKey() + ": " + e.getValue())));
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" class=\"label\">%d</text>",
                    labelWidth + Math.max(w, 1) + 4, y + 14, e.getValue()));
            row++;
        }
        return b.append("</svg>").toString();
    }

    /** One circle per point, coloured by label; {@code tips[i]} is what hovering point i shows. */
    static String scatter(String id, double[][] xy, int[] labels, String[] classNames, String[] tips) {
        int size = 420;
        int pad = 10;
        double xMin = Double.POSITIVE_INFINITY;
        double xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (double[] p : xy) {
            xMin = Math.min(xMin, p[0]);
            xMax = Math.max(xMax, p[0]);
            yMin = Math.min(yMin, p[1]);
            yMax = Math.max(yMax, p[1]);
        }
        double span = Math.max(Math.max(xMax - xMin, yMax - yMin), 1e-12);
        double cx = (xMin + xMax) / 2;
        double cy = (yMin + yMax) / 2;
        int legendRows = (classNames.length + 4) / 5;
        int height = size + legendRows * 18 + 6;
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "<svg class=\"chart map\" id=\"%s\""
                + " data-chart=\"%s\" data-points=\"%d\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">"
                + "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ddd\"/>",
                id, id, xy.length, size, height, size, height, size, size));
        for (int i = 0; i < xy.length; i++) {
            double x = size / 2.0 + (xy[i][0] - cx) / span * (size - 2 * pad);
            double y = size / 2.0 - (xy[i][1] - cy) / span * (size - 2 * pad);
            b.append(String.format(Locale.ROOT, "<circle class=\"map-point\" data-label=\"%d\" cx=\"%.1f\" cy=\"%.1f\""
                    + " r=\"2.4\" fill=\"%s\" data-tip=\"%s\"/>", labels[i], x, y,
                    PALETTE[Math.floorMod(labels[i], PALETTE.length)], Html.escape(tips[i])));
        }
        for (int c = 0; c < classNames.length; c++) {
            int x = 8 + (c % 5) * 82;
            int y = size + 16 + (c / 5) * 18;
            b.append(String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\"/><text x=\"%d\" y=\"%d\""
                    + " class=\"label\">%s</text>", x, y - 4, PALETTE[c % PALETTE.length], x + 7, y, Html.escape(classNames[c])));
        }
        return b.append("</svg>").toString();
    }

    private static void axes(StringBuilder b, Scale sx, Scale sy, double[] xTicks, double[] yTicks, String xLabel) {
        int bottom = HEIGHT - BOTTOM;
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" stroke=\"#ccc\"/>",
                LEFT, TOP, WIDTH - RIGHT - LEFT, bottom - TOP));
        for (double t : yTicks) {
            double y = sy.at(t);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%s</text>",
                    LEFT, WIDTH - RIGHT, y, y, LEFT - 4, y + 4, number(t)));
        }
        for (double t : xTicks) {
            double x = sx.at(t);
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%s</text>",
                    x, bottom + 14, number(t)));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"label\">%s</text>",
                (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 6, Html.escape(xLabel)));
    }

    private static void legend(StringBuilder b, List<Series> series, List<Reference> references) {
        double x = LEFT + 6;
        int y = TOP + 12;
        List<String[]> entries = new ArrayList<>();
        for (Series s : series) {
            entries.add(new String[] {s.name(), s.color(), ""});
        }
        for (Reference r : references) {
            if (Double.isFinite(r.value())) {
                entries.add(new String[] {r.name(), r.color(), "5 4"});
            }
        }
        for (String[] e : entries) {
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\""
                    + " stroke-width=\"2\" stroke-dasharray=\"%s\"/><text x=\"%.1f\" y=\"%d\" class=\"legend\">%s</text>",
                    x, x + 14, y - 4, y - 4, e[1], e[2], x + 18, y, Html.escape(e[0])));
            x += 30 + 6.2 * e[0].length();
            if (x > WIDTH - 120) {
                x = LEFT + 6;
                y += 14;
            }
        }
    }

    /** About four to six round ticks covering [min, max]. */
    static double[] ticks(double min, double max) {
        double raw = (max - min) / 4;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = magnitude;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (raw <= m * magnitude) {
                step = m * magnitude;
                break;
            }
        }
        double first = Math.floor(min / step) * step;
        List<Double> out = new ArrayList<>();
        for (double t = first; t <= max + step * 1e-9 && out.size() < 12; t += step) {
            out.add(Math.abs(t) < step * 1e-9 ? 0 : t);
        }
        if (out.get(out.size() - 1) < max) {
            out.add(out.get(out.size() - 1) + step);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return String.format(Locale.ROOT, "%d", (long) v);
        }
        String s = String.format(Locale.ROOT, "%.4g", v);
        if (s.contains("e")) {
            return s;
        }
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    private record Scale(double min, double max, double from, double to) {
        double at(double v) {
            return from + (v - min) / (max - min) * (to - from);
        }
    }
}
