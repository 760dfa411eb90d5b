package io.siamstream.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** What the job's exactly-once file sinks committed. */
final class CommittedFiles {

    private static final Pattern STEP = Pattern.compile("\"step\":(\\d+),\"loss\":([-0-9.eE]+|null)");

    private CommittedFiles() {}

    /** Committed lines of a file sink folder (in-progress and pending files start with a dot and are skipped). */
    static List<String> lines(Path folder) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.exists(folder)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList()) {
                out.addAll(Files.readAllLines(file));
            }
        }
        return out;
    }

    /** The number a JSON-lines record gives {@code field} (null when it is JSON's null); fails when it has none. */
    static Double number(String line, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":([-0-9.eE]+|null)").matcher(line);
        assertThat(m.find()).as(field + " in " + line).isTrue();
        return m.group(1).equals("null") ? null : Double.valueOf(m.group(1));
    }

    /** Step number to loss (as written) of step-metric lines; fails on a line that is not one, or a step seen twice. */
    static TreeMap<Long, String> stepLosses(List<String> lines) {
        TreeMap<Long, String> out = new TreeMap<>();
        for (String line : lines) {
            Matcher m = STEP.matcher(line);
            assertThat(m.find()).as(line).isTrue();
            String previous = out.put(Long.parseLong(m.group(1)), m.group(2));
            assertThat(previous).as("step " + m.group(1) + " appears twice").isNull();
        }
        return out;
    }
}
