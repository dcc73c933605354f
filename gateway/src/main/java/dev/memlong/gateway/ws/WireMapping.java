package dev.memlong.gateway.ws;

import dev.memlong.gateway.backend.ChatChunk;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.proto.ClientFrame;
import dev.memlong.gateway.proto.Error;
import dev.memlong.gateway.proto.Forgotten;
import dev.memlong.gateway.proto.GenerationParams;
import dev.memlong.gateway.proto.HistoryMessage;
import dev.memlong.gateway.proto.MemoryChunk;
import dev.memlong.gateway.proto.MemoryList;
import dev.memlong.gateway.proto.Opened;
import dev.memlong.gateway.proto.RetrievedChunk;
import dev.memlong.gateway.proto.ServerFrame;
import dev.memlong.gateway.proto.Timings;
import dev.memlong.gateway.proto.TokenDelta;
import dev.memlong.gateway.proto.TurnDone;
import dev.memlong.gateway.proto.Usage;
import dev.memlong.gateway.turn.RequestedParams;

/** Protobuf wire types to and from the session's records; the only place (with the codec) that sees them. */
final class WireMapping {

    private WireMapping() {
    }

    static ClientCommand toCommand(ClientFrame frame, Encoding enc) {
        return switch (frame.getKindCase()) {
            case OPEN -> new ClientCommand.Open(frame.getOpen().getRequestId(), frame.getOpen().getConversationId(),
                    frame.getOpen().getIncludeHistory(), enc);
            case MESSAGE -> new ClientCommand.Message(frame.getMessage().getRequestId(), frame.getMessage().getText(),
                    frame.getMessage().hasSystemPrompt() ? frame.getMessage().getSystemPrompt() : null,
                    params(frame.getMessage().getParams()), enc);
            case CANCEL -> new ClientCommand.Cancel(frame.getCancel().getRequestId(), enc);
            case LIST_MEMORY -> new ClientCommand.ListMemory(frame.getListMemory().getRequestId(), enc);
            case FORGET -> new ClientCommand.Forget(frame.getForget().getRequestId(), enc);
            case KIND_NOT_SET -> new ClientCommand.Malformed("", "the frame carries no message", enc);
        };
    }

    private static RequestedParams params(GenerationParams p) {
        return new RequestedParams(
                p.hasMaxNewTokens() ? Integer.toUnsignedLong(p.getMaxNewTokens()) : null,
                p.hasTemperature() ? p.getTemperature() : null,
                p.hasTopK() ? Integer.toUnsignedLong(p.getTopK()) : null,
                p.hasTopP() ? p.getTopP() : null,
                p.hasRepetitionPenalty() ? p.getRepetitionPenalty() : null,
                p.hasSeed() ? p.getSeed() : null,
                p.getStopList());
    }

    static ServerFrame toFrame(ServerEvent event) {
        ServerFrame.Builder f = ServerFrame.newBuilder();
        switch (event) {
            case ServerEvent.Opened o -> {
                Opened.Builder b = Opened.newBuilder().setRequestId(o.requestId())
                        .setConversationId(o.conversationId()).setTenant(o.tenant());
                for (ChatTurn t : o.history()) {
                    b.addHistory(HistoryMessage.newBuilder().setSeq(t.seq()).setRole(t.role().wireName())
                            .setText(t.text()));
                }
                f.setOpened(b);
            }
            case ServerEvent.Delta d -> f.setDelta(TokenDelta.newBuilder().setRequestId(d.requestId())
                    .setText(d.text()).setIndex(d.index()));
            case ServerEvent.Done d -> f.setDone(done(d));
            case ServerEvent.Failed e -> f.setError(Error.newBuilder().setRequestId(e.requestId())
                    .setCode(dev.memlong.gateway.proto.ErrorCode.valueOf(e.code().name())).setMessage(e.message()));
            case ServerEvent.Memory m -> {
                MemoryList.Builder b = MemoryList.newBuilder().setRequestId(m.requestId());
                for (ChatChunk c : m.chunks()) {
                    b.addChunks(MemoryChunk.newBuilder().setSeq(c.seq()).setText(c.text())
                            .setTokenCount(c.tokenCount()).setRetrievalCount(c.retrievalCount()));
                }
                f.setMemory(b);
            }
            case ServerEvent.Forgotten g -> f.setForgotten(Forgotten.newBuilder().setRequestId(g.requestId())
                    .setExisted(g.existed()));
        }
        return f.build();
    }

    private static TurnDone done(ServerEvent.Done d) {
        ChatReply r = d.reply();
        TurnDone.Builder b = TurnDone.newBuilder().setRequestId(d.requestId()).setText(r.text())
                .setUsage(Usage.newBuilder().setPromptTokens(r.promptTokens())
                        .setCompletionTokens(r.completionTokens()).setMemoryTokens(r.memoryTokens())
                        .setWindowTokens(r.windowTokens()))
                .setTimings(Timings.newBuilder().setTtftMs(r.timeToFirstToken().toNanos() / 1e6)
                        .setTokensPerSecond(r.tokensPerSecond()).setTotalMs(d.elapsedNanos() / 1e6))
                .setFinishReason(r.finish() == ChatReply.Finish.LENGTH ? "length" : "stop");
        for (ChatReply.Retrieved c : r.retrieved()) {
            b.addRetrieved(RetrievedChunk.newBuilder().setSeq(c.seq()).setText(c.text()).setScore(c.score()));
        }
        return b.build();
    }
}
