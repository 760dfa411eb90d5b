package io.siamstream.job;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The model artifact format (safetensors, names, model.json, .npy) is framework-free: only the sink and its
 * committable use Flink, so the format can be read and written by plain Java services.
 */
class ModelFormatLayeringTest {

    @Test
    void onlyTheSinkUsesFlink() {
        noClasses().that().resideInAPackage("io.siamstream.connectors.model..")
                .and().doNotHaveSimpleName("ModelArtifactSink").and().doNotHaveSimpleName("ModelCommittable")
                .and().haveNameNotMatching(".*\\.(ModelArtifactSink|ModelCommittable)\\$.*")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..")
                .because("the artifact format must be usable without Flink (connectors.model is framework-free but for the sink)")
                .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("io.siamstream.connectors.model"));
    }
}
