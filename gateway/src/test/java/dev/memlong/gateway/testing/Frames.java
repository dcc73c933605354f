package dev.memlong.gateway.testing;

import dev.memlong.gateway.proto.Cancel;
import dev.memlong.gateway.proto.ClientFrame;
import dev.memlong.gateway.proto.Forget;
import dev.memlong.gateway.proto.GenerationParams;
import dev.memlong.gateway.proto.ListMemory;
import dev.memlong.gateway.proto.OpenConversation;
import dev.memlong.gateway.proto.UserMessage;

/** Short builders of client frames. */
public final class Frames {

    private Frames() {
    }

    public static ClientFrame open(String requestId, String conversationId, boolean history) {
        return ClientFrame.newBuilder().setOpen(OpenConversation.newBuilder().setRequestId(requestId)
                .setConversationId(conversationId).setIncludeHistory(history)).build();
    }

    public static ClientFrame message(String requestId, String text) {
        return ClientFrame.newBuilder().setMessage(UserMessage.newBuilder().setRequestId(requestId).setText(text))
                .build();
    }

    public static ClientFrame message(String requestId, String text, GenerationParams params) {
        return ClientFrame.newBuilder().setMessage(UserMessage.newBuilder().setRequestId(requestId).setText(text)
                .setParams(params)).build();
    }

    public static ClientFrame cancel(String requestId) {
        return ClientFrame.newBuilder().setCancel(Cancel.newBuilder().setRequestId(requestId)).build();
    }

    public static ClientFrame listMemory(String requestId) {
        return ClientFrame.newBuilder().setListMemory(ListMemory.newBuilder().setRequestId(requestId)).build();
    }

    public static ClientFrame forget(String requestId) {
        return ClientFrame.newBuilder().setForget(Forget.newBuilder().setRequestId(requestId)).build();
    }
}
