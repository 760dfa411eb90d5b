package io.siamstream.job;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layering the design promises, enforced on the compiled classes of the modules on this classpath (operators,
 * connectors, job): the learning core runs without Flink, and the connectors do not reach into the job. The
 * benchmarks ({@code io.siamstream.bench}) are a module of their own that depends on the job, so nothing here can
 * depend on them; what is checked for them is that none is left in the job module, whose classes make the user jar.
 */
class LayeringTest {

    /** The learning core and the records it shares with the stream: framework-free. */
    private static final String[] CORE = {
        "io.siamstream.augment..", "io.siamstream.model..", "io.siamstream.method..", "io.siamstream.train..",
        "io.siamstream.eval..", "io.siamstream.seed..", "io.siamstream.record.."
    };

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.siamstream");
    }

    @Test
    void theLearningCoreImportsNothingFromFlink() {
        noClasses().that().resideInAnyPackage(CORE)
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..")
                .because("the learning core (augment, model, method, train, eval, seed, record) must run without Flink;"
                        + " only the thin operators in io.siamstream.flink wrap it")
                .check(classes);
    }

    @Test
    void theLearningCoreDoesNotReachIntoOperatorsConnectorsOrTheJob() {
        noClasses().that().resideInAnyPackage(CORE)
                .should().dependOnClassesThat().resideInAnyPackage("io.siamstream.flink..", "io.siamstream.connectors..",
                        "io.siamstream.job..", "io.siamstream.report..")
                .check(classes);
    }

    @Test
    void theReportReadsFilesAndRunsNoFlinkJob() {
        noClasses().that().resideInAPackage("io.siamstream.report..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink.streaming..",
                        "org.apache.flink.runtime..", "io.siamstream.flink..", "io.siamstream.job..")
                .because("the report is made from an output folder, outside the job's operators")
                .check(classes);
    }

    @Test
    void connectorsDoNotDependOnTheJob() {
        noClasses().that().resideInAPackage("io.siamstream.connectors..")
                .should().dependOnClassesThat().resideInAnyPackage("io.siamstream.job..", "io.siamstream.report..")
                .check(classes);
    }

    @Test
    void theJobModuleShipsNoBenchmark() throws Exception {
        Path jobClasses = Path.of(SiamstreamJob.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        JavaClasses own = new ClassFileImporter().importPath(jobClasses);
        noClasses().should().resideInAPackage("io.siamstream.bench..")
                .because("the job module's classes are the deployable user jar; benchmarks live in the bench module")
                .check(own);
    }
}
