package io.siamstream.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The step records the job's exactly-once file sink committed ({@code steps/}, JSON lines), and the check that every
 * step 1..N is there exactly once. Committed part files are read; in-progress and pending ones (their names start
 * with a dot) are not, and neither is a file twice: committed files never change, so {@link #readNew} can be called
 * while the job runs and reads only what was committed since.
 */
final class StepLedger {

    private static final Pattern STEP = Pattern.compile("\"step\":(\\d+)");
    private static final Pattern LR = Pattern.compile("\"lr\":([-0-9.eE+]+|null)");

    /** The committed lines of step {@code n}; a correct sink has exactly one per step. */
    private final Map<Long, List<String>> lines = new HashMap<>();
    private final List<String> malformed = new ArrayList<>();
    private final java.util.Set<Path> read = new java.util.HashSet<>();
    private long maxStep;

    /** Reads the committed files under {@code folder} not read before; returns how many lines they held. */
    int readNew(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return 0;
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files = walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> !read.contains(p)).sorted().toList();
        }
        int n = 0;
        for (Path file : files) {
            for (String line : Files.readAllLines(file)) {
                add(line);
                n++;
            }
            read.add(file);
        }
        return n;
    }

    /** One committed line. */
    void add(String line) {
        if (line.isBlank()) {
            return;
        }
        Matcher m = STEP.matcher(line);
        if (!m.find()) {
            malformed.add(line);
            return;
        }
        long step = Long.parseLong(m.group(1));
        lines.computeIfAbsent(step, s -> new ArrayList<>(1)).add(line);
        maxStep = Math.max(maxStep, step);
    }

    /** The highest committed step (0 when none). */
    long maxStep() {
        return maxStep;
    }

    /** The lr written for step {@code n} (its first line), NaN if the step is not committed or has no number. */
    double lr(long step) {
        List<String> l = lines.get(step);
        if (l == null) {
            return Double.NaN;
        }
        Matcher m = LR.matcher(l.get(0));
        return m.find() && !m.group(1).equals("null") ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    /**
     * Whether steps 1..{@code upTo} are each committed exactly once and no line is malformed; the committed steps
     * beyond {@code upTo} (the job runs on until a checkpoint commits step {@code upTo}) must be gapless and unique too.
     */
    Verdict check(long upTo) {
        TreeMap<Long, Integer> duplicates = new TreeMap<>();
        lines.forEach((step, l) -> {
            if (l.size() > 1) {
                duplicates.put(step, l.size());
            }
        });
        List<Long> missing = new ArrayList<>();
        for (long s = 1; s <= Math.max(upTo, maxStep); s++) {
            if (!lines.containsKey(s)) {
                missing.add(s);
            }
        }
        List<Long> outOfRange = lines.keySet().stream().filter(s -> s < 1).sorted().toList();
        long total = lines.values().stream().mapToLong(List::size).sum();
        return new Verdict(upTo, total, lines.size(), maxStep, duplicates, missing, outOfRange, List.copyOf(malformed));
    }

    /** The outcome of {@link #check}. */
    record Verdict(long expected, long lines, long distinctSteps, long maxStep, TreeMap<Long, Integer> duplicates,
                   List<Long> missing, List<Long> outOfRange, List<String> malformed) {

        boolean exactlyOnce() {
            return duplicates.isEmpty() && missing.isEmpty() && outOfRange.isEmpty() && malformed.isEmpty()
                    && maxStep >= expected;
        }

        /** One line for the report: PASS or FAIL with what was found. */
        String describe() {
            String what = String.format(java.util.Locale.ROOT,
                    "%d committed lines, %d distinct steps, highest %d; steps 1..%d: %d missing, %d duplicated",
                    lines, distinctSteps, maxStep, Math.max(expected, maxStep), missing.size(), duplicates.size());
            if (!duplicates.isEmpty()) {
                what += " (first: step " + duplicates.firstKey() + " x" + duplicates.firstEntry().getValue() + ")";
            }
            if (!missing.isEmpty()) {
                what += " (first missing: step " + missing.get(0) + ")";
            }
            if (!outOfRange.isEmpty()) {
                what += "; steps below 1: " + outOfRange;
            }
            if (!malformed.isEmpty()) {
                what += "; " + malformed.size() + " line(s) without a step";
            }
            return (exactlyOnce() ? "PASS: " : "FAIL: ") + what;
        }
    }
}
