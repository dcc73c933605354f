package dev.memlong.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.checkpoint.TorchSaveWriter.Storage;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.checkpoint.TorchSaveWriter.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files that must be refused with a {@link CheckpointException}, quickly, without executing or allocating anything. */
class HostilePickleTest {

    @TempDir
    Path tmp;

    @Test
    void osSystemIsRefusedAndNeverRun() throws Exception {
        Path marker = tmp.resolve("pwned");
        byte[] pickle = new PickleWriter().proto(2).global("posix", "system").string("touch " + marker)
                .op(0x85).op('R').op('.').bytes();
        assertRefused(pickle, "posix.system");
        assertFalse(Files.exists(marker));
        byte[] stackGlobal = new PickleWriter().proto(4).op(0x8c).op(8).raw("builtins".getBytes()).op(0x8c).op(4)
                .raw("eval".getBytes()).op(0x93).string("1").op(0x85).op('R').op('.').bytes();
        assertRefused(stackGlobal, "builtins.eval");
    }

    @Test
    void reduceOfAnAllowedNonFunctionIsRefused() throws Exception {
        byte[] pickle = new PickleWriter().proto(2).global("torch", "FloatStorage").op(')').op('R').op('.').bytes();
        assertRefused(pickle, "REDUCE of torch.FloatStorage");
    }

    @Test
    void objectConstructingOpcodesAreRefused() throws Exception {
        assertRefused(new PickleWriter().proto(2).op(0xff).op('.').bytes(), "unknown opcode 0xff");
        assertRefused(new PickleWriter().op('(').op('i').raw("os\nsystem\n".getBytes()).op('.').bytes(), "INST");
        assertRefused(new PickleWriter().proto(2).global("collections", "OrderedDict").op(')').op(0x81).op('.').bytes(),
                "NEWOBJ");
        assertRefused(new PickleWriter().op('(').global("collections", "OrderedDict").op('o').op('.').bytes(), "OBJ");
        assertRefused(new PickleWriter().proto(2).op('}').op(0x82).op(1).op('.').bytes(), "EXT");
    }

    @Test
    void buildOnAnythingButTheStateDictIsRefused() throws Exception {
        byte[] pickle = new PickleWriter().proto(2).op(']').op('}').string("__class__").string("x").op('s').op('b')
                .op('.').bytes();
        assertRefused(pickle, "BUILD on a list");
        byte[] attr = new PickleWriter().proto(2).global("collections", "OrderedDict").op(')').op('R').op('}')
                .string("__setstate__").op('N').op('s').op('b').op('.').bytes();
        assertRefused(attr, "__setstate__");
    }

    @Test
    void truncatedZipIsRefused() throws Exception {
        byte[] whole = Files.readAllBytes(Fixtures.openLlamaStyleBin().resolve("pytorch_model.bin"));
        Path file = tmp.resolve("pytorch_model.bin");
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));
        assertRefusedFile(file, "truncated");
        Files.write(file, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertRefusedFile(file, "torch < 1.6");
    }

    @Test
    void truncatedPickleIsRefused() throws Exception {
        assertRefused(new PickleWriter().proto(2).op('}').bytes(), "truncated");
        assertRefused(new PickleWriter().proto(2).op('X').le32(10).raw("abc".getBytes()).bytes(), "truncated");
    }

    @Test
    void storageShorterThanItsTensorIsRefused() throws Exception {
        // the persistent id declares 6 elements, the entry holds 4
        Storage s = new Storage("0", "FloatStorage", 6, new byte[16]);
        Path file = tmp.resolve("short.bin");
        TorchSaveWriter.save(file, List.of(Tensor.contiguous("w", s, 2, 3)));
        assertRefusedFile(file, "declares 6 F32 elements (24 bytes) but its entry holds 16 bytes");
        // the view reaches past the storage
        Storage four = Storage.f32("0", 1, 2, 3, 4);
        TorchSaveWriter.save(file, List.of(new Tensor("w", four, 1, new long[] {2, 2}, new long[] {2, 1})));
        assertRefusedFile(file, "reaches element 4 but storage 0 holds 4");
    }

    @Test
    void dictNestedAMillionDeepIsRefused() throws Exception {
        PickleWriter naive = new PickleWriter().proto(2);
        for (int i = 0; i < 1_000_000; i++) {
            naive.op('}').op('K').op(1);
        }
        naive.op('}');
        for (int i = 0; i < 1_000_000; i++) {
            naive.op('s');
        }
        assertRefused(naive.op('.').bytes(), "stack deeper than");
        // the same depth with a constant stack: d = {1: d} a million times through the memo
        PickleWriter memoChain = new PickleWriter().proto(2).op('}');
        memoChain.put();
        for (int i = 0; i < 1_000_000; i++) {
            memoChain.op('}').op('K').op(1).get(0).op('s').op('q').op(0).op('0');
        }
        assertRefused(memoChain.get(0).op('.').bytes(), "nested deeper than");
        PickleWriter selfList = new PickleWriter().proto(2).op(']');
        selfList.put();
        for (int i = 0; i < 1_000_000; i++) {
            selfList.get(0).op('a');
        }
        assertRefused(selfList.op('.').bytes(), "nested deeper than");
    }

    @Test
    void hugeDeclaredSizesAreRefusedWithoutAllocating() throws Exception {
        assertRefused(new PickleWriter().proto(2).op('X').le32(0xfffffff0).op('.').bytes(), "exceeds the limit");
        assertRefused(new PickleWriter().proto(4).op(0x8e).le32(0).le32(0x40000000).op('.').bytes(), "exceeds the limit");
        assertRefused(new PickleWriter().proto(2).op(0x8b).le32(Integer.MAX_VALUE).op('.').bytes(), "integer of");
        // a storage declaring 2^61 floats, and a tensor of 2^40 x 2^40 elements on a small storage
        Storage huge = new Storage("0", "FloatStorage", 1L << 61, new byte[4]);
        Path file = tmp.resolve("huge.bin");
        TorchSaveWriter.save(file, List.of(Tensor.contiguous("w", huge, 1)));
        assertRefusedFile(file, "storage 0");
        Storage one = Storage.f32("0", 1);
        TorchSaveWriter.save(file, List.of(Tensor.contiguous("w", one, 1L << 40, 1L << 40)));
        assertRefusedFile(file, "_rebuild_tensor_v2");
    }

    @Test
    void nonTensorValuesAndBadPersistentIdsAreRefused() throws Exception {
        assertRefused(new PickleWriter().proto(2).op('}').string("a").integer(1).op('s').op('.').bytes(),
                "not a flat state dict");
        assertRefused(new PickleWriter().proto(2).string("../../etc/passwd").op('Q').op('.').bytes(), "persistent id");
    }

    private void assertRefused(byte[] pickle, String expected) throws Exception {
        Path file = tmp.resolve("hostile.bin");
        TorchSaveWriter.writeZip(file, "hostile", pickle, Map.of());
        assertRefusedFile(file, expected);
    }

    private static void assertRefusedFile(Path file, String expected) {
        CheckpointException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(CheckpointException.class, () -> PyTorchPickleCheckpoint.openFile(file).close()));
        assertTrue(e.getMessage().contains(expected), () -> "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), () -> "message should name the file: " + e.getMessage());
        assertEquals(CheckpointException.class, e.getClass());
    }
}
