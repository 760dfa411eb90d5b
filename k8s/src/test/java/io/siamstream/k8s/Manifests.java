package io.siamstream.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The k8s/ folder's files and the FlinkDeployment CRD's schema, made strict, for the tests. */
final class Manifests {

    private Manifests() {}

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final String CRD = "META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml";
    static final List<String> DEPLOYMENTS = List.of("flinkdeployment-cpu.yaml", "flinkdeployment-gpu.yaml");

    /** The k8s/ folder: the module's base directory (surefire's working directory). */
    static Path k8sDir() {
        Path dir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
        if (!Files.exists(dir.resolve("flinkdeployment-cpu.yaml"))) {
            throw new IllegalStateException("not the k8s/ folder: " + dir);
        }
        return dir;
    }

    static Path repoRoot() {
        return k8sDir().getParent();
    }

    static JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The openAPIV3Schema of the CRD's v1beta1 version as a draft-04 JSON schema that rejects unknown fields:
     * every object that lists properties gets additionalProperties false (the API server prunes unknown fields
     * silently, and `kubectl apply --validate=strict` refuses them; nothing in this CRD says
     * x-kubernetes-preserve-unknown-fields, which would keep them), x-kubernetes-int-or-string becomes an anyOf of
     * integer and string, other x-kubernetes-* keys, `nullable` and `format` (OpenAPI's int32/int64/... are no JSON
     * Schema formats) are dropped, and the root gets the apiVersion, kind and metadata that Kubernetes adds to every
     * schema.
     */
    static JsonNode strictSchema() {
        JsonNode crd;
        try (InputStream in = Manifests.class.getClassLoader().getResourceAsStream(CRD)) {
            if (in == null) {
                throw new IllegalStateException(CRD + " is not on the classpath (flink-kubernetes-operator-api 1.10.0)");
            }
            crd = YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode version = null;
        for (JsonNode v : crd.path("spec").path("versions")) {
            if (v.path("name").asText().equals("v1beta1")) {
                version = v;
            }
        }
        if (version == null) {
            throw new IllegalStateException("no v1beta1 in " + CRD);
        }
        ObjectNode schema = (ObjectNode) strict(version.path("schema").path("openAPIV3Schema").deepCopy());
        ObjectNode props = (ObjectNode) schema.get("properties");
        JsonNodeFactory f = JsonNodeFactory.instance;
        props.set("apiVersion", f.objectNode().put("type", "string")
                .set("enum", f.arrayNode().add("flink.apache.org/v1beta1")));
        props.set("kind", f.objectNode().put("type", "string").set("enum", f.arrayNode().add("FlinkDeployment")));
        ObjectNode meta = f.objectNode().put("type", "object");
        ObjectNode metaProps = meta.putObject("properties");
        metaProps.putObject("name").put("type", "string").put("pattern", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
        metaProps.putObject("namespace").put("type", "string");
        metaProps.putObject("labels").put("type", "object").putObject("additionalProperties").put("type", "string");
        metaProps.putObject("annotations").put("type", "object").putObject("additionalProperties").put("type", "string");
        meta.put("additionalProperties", false);
        meta.set("required", f.arrayNode().add("name"));
        props.set("metadata", meta);
        schema.set("required", f.arrayNode().add("apiVersion").add("kind").add("metadata").add("spec"));
        schema.put("$schema", "http://json-schema.org/draft-04/schema#");
        return schema;
    }

    private static JsonNode strict(JsonNode node) {
        if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                array.set(i, strict(array.get(i)));
            }
            return array;
        }
        if (!(node instanceof ObjectNode object)) {
            return node;
        }
        boolean intOrString = object.path("x-kubernetes-int-or-string").asBoolean(false);
        boolean preserve = object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        List<String> drop = new ArrayList<>();
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (name.startsWith("x-kubernetes-") || name.equals("nullable") || name.equals("format")) {
                drop.add(name);
            }
        }
        object.remove(drop);
        if (object.has("properties")) {
            ObjectNode properties = (ObjectNode) object.get("properties");
            Map<String, JsonNode> converted = new LinkedHashMap<>();
            properties.fields().forEachRemaining(e -> converted.put(e.getKey(), strict(e.getValue())));
            converted.forEach(properties::set);
            if (!object.has("additionalProperties") && !preserve) {
                object.put("additionalProperties", false);
            }
        }
        for (String key : List.of("items", "additionalProperties", "anyOf", "allOf", "oneOf", "not")) {
            if (object.has(key) && !object.get(key).isBoolean()) {
                object.set(key, strict(object.get(key)));
            }
        }
        if (intOrString && !object.has("anyOf")) {
            object.remove("type");
            ArrayNode anyOf = object.putArray("anyOf");
            anyOf.addObject().put("type", "integer");
            anyOf.addObject().put("type", "string");
        }
        return object;
    }

    static JsonSchema validator() {
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(strictSchema());
    }

    /** The validation messages, sorted, each naming the path ($.spec.job.upgradeMode: ...). */
    static Set<String> validate(JsonSchema schema, JsonNode manifest) {
        Set<String> out = new TreeSet<>();
        for (ValidationMessage m : schema.validate(manifest)) {
            out.add(m.getMessage());
        }
        return out;
    }
}
