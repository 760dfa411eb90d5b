package io.siamstream.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A container image's file layout, made by carrying out the COPY lines of one of k8s/'s Dockerfiles (no container
 * engine runs here) into target/image-layout/&lt;dockerfile&gt;/: the image layout test checks it, and the cluster ITs
 * run Flink on it.
 */
public final class ImageLayout {

    /** A Dockerfile COPY line: its sources (relative to the build context, the repository root) and destination. */
    public record Copy(List<String> sources, String destination) {}

    private ImageLayout() {}

    /** The k8s/ folder (the module's base directory). */
    public static Path k8sDir() {
        return Manifests.k8sDir();
    }

    public static List<Copy> copies(Path dockerfile) throws IOException {
        List<Copy> out = new ArrayList<>();
        String text = Files.readString(dockerfile).replace("\\\n", " ");
        for (String line : text.split("\n")) {
            String l = line.trim();
            if (!l.toUpperCase().startsWith("COPY ")) {
                continue;
            }
            List<String> words = new ArrayList<>(List.of(l.substring(5).trim().split("\\s+")));
            words.removeIf(w -> w.startsWith("--"));
            assertThat(words).as("COPY needs a source and a destination: %s", l).hasSizeGreaterThanOrEqualTo(2);
            out.add(new Copy(words.subList(0, words.size() - 1), words.get(words.size() - 1)));
        }
        return out;
    }

    /**
     * Assembles the layout of {@code dockerfile} (a file name under k8s/) afresh and returns its root (the image's
     * {@code /}). Fails naming the COPY source when a build output is missing.
     */
    public static Path assemble(String dockerfile) throws IOException {
        Path root = Manifests.repoRoot();
        Path df = Manifests.k8sDir().resolve(dockerfile);
        Path image = Manifests.k8sDir().resolve("target/image-layout").resolve(dockerfile.toLowerCase());
        deleteTree(image);
        List<Copy> copies = copies(df);
        assertThat(copies).isNotEmpty();
        for (Copy copy : copies) {
            assertThat(copy.destination()).as("COPY destinations are absolute paths in the image").startsWith("/opt/");
            for (String source : copy.sources()) {
                Path src = root.resolve(source);
                assertThat(src).as("%s: COPY source %s is not in the build output (run `mvn -pl job -am package`)",
                        dockerfile, source).exists();
                Path dest = image.resolve(copy.destination().substring(1));
                if (Files.isDirectory(src)) {
                    assertThat(copy.destination()).endsWith("/");
                    Files.createDirectories(dest);
                    try (Stream<Path> files = Files.list(src)) {
                        for (Path f : (Iterable<Path>) files::iterator) {
                            Files.copy(f, dest.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                } else {
                    Files.createDirectories(copy.destination().endsWith("/") ? dest : dest.getParent());
                    Files.copy(src, copy.destination().endsWith("/") ? dest.resolve(src.getFileName()) : dest,
                            StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return image;
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.delete(p);
            }
        }
    }
}
