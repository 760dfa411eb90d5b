package io.siamstream.servable;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** A service that embeds with the servable runs without Flink: neither its classes nor its path bring Flink's runtime. */
class ServableClasspathTest {

    @Test
    void theServableUsesOnlyFlinkMlsServableApi() {
        noClasses().that().resideInAPackage("io.siamstream.servable..")
                .should().dependOnClassesThat(resideInAPackage("org.apache.flink..")
                        .and(not(resideInAPackage("org.apache.flink.ml.."))))
                .check(new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("io.siamstream.servable"));
    }

    @Test
    void noFlinkRuntimeIsOnThePath() {
        for (String name : new String[] {"org.apache.flink.runtime.minicluster.MiniCluster",
                "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment",
                "org.apache.flink.table.api.Table", "org.apache.flink.core.fs.FileSystem"}) {
            assertThatThrownBy(() -> Class.forName(name)).as(name).isInstanceOf(ClassNotFoundException.class);
        }
    }
}
