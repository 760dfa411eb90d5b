package io.siamstream.k8s.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** The few calls of Flink's REST API the cluster ITs make (upload and run a jar, watch, stop with a savepoint). */
public final class FlinkRest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    public FlinkRest(int port) {
        this.base = "http://localhost:" + port;
    }

    /** GET; null when the server cannot be reached or answers with an error (it may be starting or gone). */
    public JsonNode tryGet(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    public JsonNode post(String path, Object body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofMinutes(2)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("POST %s: %s", path, r.body()).isBetween(200, 202);
        return JSON.readTree(r.body());
    }

    /** POST /jars/upload (multipart, field jarfile): the jar's id on the cluster. */
    public String uploadJar(Path jar) throws IOException, InterruptedException {
        String boundary = "----siamstream" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                .timeout(Duration.ofMinutes(2)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("upload: %s", r.body()).isEqualTo(200);
        JsonNode answer = JSON.readTree(r.body());
        assertThat(answer.path("status").asText()).as(r.body()).isEqualTo("success");
        String file = answer.path("filename").asText();
        return file.substring(file.lastIndexOf('/') + 1);
    }

    /**
     * POST /jars/:id/run with the program arguments, the job's default parallelism (the run handler does not take
     * the cluster's parallelism.default) and a savepoint to start from (or null): the job id.
     */
    public String runJar(String jarId, List<String> args, int parallelism, String savepoint)
            throws IOException, InterruptedException {
        ObjectNode request = JSON.createObjectNode();
        request.putPOJO("programArgsList", args);
        request.put("parallelism", parallelism);
        if (savepoint != null) {
            request.put("savepointPath", savepoint);
            request.put("allowNonRestoredState", false);
        }
        return post("/jars/" + jarId + "/run", request).path("jobid").asText();
    }

    public String jobState(String jobId) {
        JsonNode job = tryGet("/jobs/" + jobId);
        return job == null ? null : job.path("state").asText();
    }

    /** The resource id of the TaskManager running subtask 0 of the vertex whose name starts with {@code name}. */
    public String taskManagerOf(String jobId, String name) throws IOException, InterruptedException {
        for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
            if (v.path("name").asText().startsWith(name)) {
                JsonNode subtask = get("/jobs/" + jobId + "/vertices/" + v.path("id").asText()).path("subtasks").get(0);
                return subtask.path("taskmanager-id").asText();
            }
        }
        throw new AssertionError("no vertex " + name + " in job " + jobId);
    }

    /** The resource ids of the TaskManagers running the job's subtasks. */
    public java.util.Set<String> taskManagersOf(String jobId) throws IOException, InterruptedException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
            for (JsonNode subtask : get("/jobs/" + jobId + "/vertices/" + v.path("id").asText()).path("subtasks")) {
                out.add(subtask.path("taskmanager-id").asText());
            }
        }
        return out;
    }

    /** GET /jobs/:id/checkpoints, or null. */
    public JsonNode checkpoints(String jobId) {
        return tryGet("/jobs/" + jobId + "/checkpoints");
    }

    /** POST /jobs/:id/stop (drain false) and waits for the savepoint: its path. */
    public String stopWithSavepoint(String jobId, Path directory) throws Exception {
        ObjectNode request = JSON.createObjectNode();
        request.put("drain", false);
        request.put("targetDirectory", directory.toUri().toString());
        String trigger = post("/jobs/" + jobId + "/stop", request).path("request-id").asText();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            JsonNode s = get("/jobs/" + jobId + "/savepoints/" + trigger);
            if (s.path("status").path("id").asText().equals("COMPLETED")) {
                JsonNode op = s.path("operation");
                assertThat(op.has("failure-cause")).as("stop with savepoint: %s", op).isFalse();
                return op.path("location").asText();
            }
            assertThat(System.nanoTime()).as("savepoint of %s", jobId).isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
