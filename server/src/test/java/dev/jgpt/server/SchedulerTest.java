package dev.jgpt.server;

import dev.jgpt.infer.GenerationOptions;
import dev.jgpt.infer.StopReason;
import dev.jgpt.model.GPT;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class SchedulerTest {
    static final List<String> PROMPTS = List.of("ROMEO:", "JULIET: O", "To be, or not", "KING HENRY", "a", "Now is the",
            "What light", "Friends, Romans", "HAMLET:\n", "Out, damned", "Is this a", "We few, we");

    static Job.Finished finish(Job job) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        while (true) {
            Job.Event e = job.take();
            if (e instanceof Job.Text t) {
                text.append(t.text());
            } else if (e instanceof Job.Finished f) {
                assertEquals(f.text(), text.toString(), "the text events add up to the whole text");
                return f;
            } else {
                throw new AssertionError("job failed: " + e);
            }
        }
    }

    static int[] ids(String prompt) {
        return TestModels.CHARS.encode(prompt);
    }

    @Test
    void greedyOutputIsTheSameAloneAndBesideOthers() throws Exception {
        GPT reference = TestModels.tiny(5);
        try (Scheduler s = new Scheduler(new BatchedEngine(TestModels.tiny(5), TestModels.CONTEXT), TestModels.CHARS,
                4, 64, new ServerMetrics())) {
            List<Job> jobs = new ArrayList<>();
            for (int i = 0; i < PROMPTS.size(); i++) {   // 12 jobs, 4 slots: they join as others finish
                jobs.add(s.submit(ids(PROMPTS.get(i)), GenerationOptions.greedy(10 + 3 * i)));
            }
            for (int i = 0; i < PROMPTS.size(); i++) {
                Job.Finished f = finish(jobs.get(i));
                assertEquals(TestModels.greedyAlone(reference, PROMPTS.get(i), 10 + 3 * i, List.of()).text(), f.text(),
                        "prompt " + i);
                assertEquals(StopReason.MAX_TOKENS, f.reason());
                assertEquals(10 + 3 * i, f.completionTokens());
                assertEquals(ids(PROMPTS.get(i)).length, f.promptTokens());
            }
        }
    }

    @Test
    void requestsJoinBetweenStepsAndLeaveWhenDone() throws Exception {
        GatedEngine engine = new GatedEngine(new BatchedEngine(TestModels.tiny(2), TestModels.CONTEXT));
        try (Scheduler s = new Scheduler(engine, TestModels.CHARS, 4, 4, new ServerMetrics());
             GatedEngine opened = engine) {   // closed first: opens the gate so the scheduler can stop
            Job a = s.submit(ids("ROMEO:"), GenerationOptions.greedy(5));
            engine.awaitEntered(1);          // step 1: A's prompt
            Job b = s.submit(ids("JULIET:"), GenerationOptions.greedy(3));
            engine.allow(1);
            engine.awaitEntered(1);          // step 2: A's token and B's prompt together
            assertEquals(List.of(1, 2), engine.batchSizes());
            engine.open();
            assertEquals(5, finish(a).completionTokens());
            assertEquals(3, finish(b).completionTokens());
            assertEquals(List.of(1, 2, 2, 2, 1), engine.batchSizes(), "B leaves after its 3rd token; A goes on alone");
        }
    }

    @Test
    void aFullQueueRejectsAndACancelledQueuedJobNeverRuns() throws Exception {
        GatedEngine engine = new GatedEngine(new BatchedEngine(TestModels.tiny(2), TestModels.CONTEXT));
        try (Scheduler s = new Scheduler(engine, TestModels.CHARS, 1, 1, new ServerMetrics());
             GatedEngine opened = engine) {   // closed first: opens the gate so the scheduler can stop
            Job a = s.submit(ids("ROMEO:"), GenerationOptions.greedy(3));
            engine.awaitEntered(1);
            Job b = s.submit(ids("JULIET:"), GenerationOptions.greedy(3));
            Scheduler.RejectedException full = assertThrows(Scheduler.RejectedException.class,
                    () -> s.submit(ids("KING:"), GenerationOptions.greedy(3)));
            assertEquals(Scheduler.Rejection.QUEUE_FULL, full.reason());
            assertEquals(1, s.queued());
            b.cancel();
            engine.open();
            assertEquals(3, finish(a).completionTokens());
            Job c = s.submit(ids("KING:"), GenerationOptions.greedy(2));
            assertEquals(2, finish(c).completionTokens());
            assertEquals(List.of(1, 1, 1, 1, 1), engine.batchSizes(), "B never ran");
        }
    }

    @Test
    void aFailingStepFailsItsJobsAndTheSchedulerGoesOn() throws Exception {
        GatedEngine engine = new GatedEngine(new BatchedEngine(TestModels.tiny(2), TestModels.CONTEXT));
        engine.failNextStep(new IllegalStateException("NaN in the logits"));
        engine.open();
        try (Scheduler s = new Scheduler(engine, TestModels.CHARS, 2, 2, new ServerMetrics())) {
            Job a = s.submit(ids("ROMEO:"), GenerationOptions.greedy(3));
            Job.Event e = a.take();
            Job.Failed failed = assertInstanceOf(Job.Failed.class, e);
            assertTrue(failed.message().contains("NaN in the logits"), failed.message());
            assertEquals(3, finish(s.submit(ids("ROMEO:"), GenerationOptions.greedy(3))).completionTokens());
        }
    }

    @Test
    void badPromptsAreRefused() throws Exception {
        try (Scheduler s = new Scheduler(new BatchedEngine(TestModels.tiny(2), TestModels.CONTEXT), TestModels.CHARS,
                1, 1, new ServerMetrics())) {
            assertThrows(IllegalArgumentException.class, () -> s.submit(new int[0], GenerationOptions.greedy(3)));
            assertThrows(IllegalArgumentException.class,
                    () -> s.submit(new int[TestModels.CONTEXT + 1], GenerationOptions.greedy(3)));
            assertThrows(IllegalArgumentException.class, () -> s.submit(new int[] {999}, GenerationOptions.greedy(3)));
        }
    }
}
