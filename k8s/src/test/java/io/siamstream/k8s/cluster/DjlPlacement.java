package io.siamstream.k8s.cluster;

import io.siamstream.k8s.ImageLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Where the cluster finds DJL: in Flink's lib/ (the image as built, loaded parent-first), or only inside the user
 * jar, as a job packaged without the lib/ set would have it. For the second, the CPU image's layout is copied
 * without lib/'s DJL jars, and the user jar gets them as nested {@code lib/*.jar}, which Flink's PackagedProgram
 * extracts and ships with the job: DJL then loads in the job's user-code classloader.
 */
enum DjlPlacement {
    LIB,
    USER_JAR;

    /** The image layout for this placement (the CPU image's, assembled from the Dockerfile). */
    Path layout() throws IOException {
        Path image = ImageLayout.assemble("Dockerfile");
        if (this == LIB) {
            return image;
        }
        Path variant = image.resolveSibling("dockerfile-djl-in-user-jar");
        ImageLayout.deleteTree(variant);
        try (Stream<Path> walk = Files.walk(image)) {
            for (Path p : walk.toList()) {
                Path to = variant.resolve(image.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.getParent().endsWith("opt/flink/lib") && !p.getParent().endsWith("opt/flink/usrlib")) {
                    Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        List<Path> djl;
        try (Stream<Path> jars = Files.list(image.resolve("opt/flink/lib"))) {
            djl = jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        try (JarInputStream in = new JarInputStream(Files.newInputStream(image.resolve("opt/flink/usrlib/siamstream.jar")));
             OutputStream file = Files.newOutputStream(variant.resolve("opt/flink/usrlib/siamstream.jar"));
             JarOutputStream out = new JarOutputStream(file, in.getManifest())) {
            for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
                out.putNextEntry(new JarEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
            for (Path jar : djl) {
                out.putNextEntry(new JarEntry("lib/" + jar.getFileName()));
                try (InputStream j = Files.newInputStream(jar)) {
                    j.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return variant;
    }
}
