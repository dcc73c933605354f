package dev.memlong.examples.cli;

import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;

/** Parses {@code 1,2,3} into token ids. */
final class IdList implements ITypeConverter<IdList.Ids> {

    /** Token ids given on the command line. */
    record Ids(int[] values) {}

    @Override
    public Ids convert(String value) {
        String[] parts = value.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + parts[i] + "' is not a token id");
            }
            if (ids[i] < 0) {
                throw new CommandLine.TypeConversionException("token ids are not negative: " + ids[i]);
            }
        }
        return new Ids(ids);
    }
}
