import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.ko.KoreanAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.queryparser.classic.MultiFieldQueryParser;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * Lucene "nori" baseline of the papersearch quality benchmark: what an Elasticsearch user
 * gets from the nori analyzer, i.e. KoreanAnalyzer with its defaults on every field, BM25,
 * and a multi-field OR query. Driven by baselines.py, which compiles and runs it.
 *
 * <p>Usage: {@code java NoriBaseline PAPERS.tsv QUERIES.txt LIMIT}
 *
 * <ul>
 *   <li>PAPERS.tsv: a header line {@code id<TAB>field<TAB>...}, then one paper per line.
 *   <li>QUERIES.txt: one query per line.
 *   <li>Both are UTF-8 with backslash escapes ({@code \\ \t \n \r}) inside values.
 *   <li>Output: one line per query, the distinct ids of its best {@code LIMIT} hits, best
 *       first, separated by tabs.
 * </ul>
 */
public final class NoriBaseline {
    /** A double-quoted phrase or a run of other non-space characters; stray quotes are dropped. */
    private static final Pattern QUERY_PART = Pattern.compile("\"([^\"]*)\"|([^\\s\"]+)");

    /** Bare words the classic parser reads as operators; QueryParser.escape leaves them alone. */
    private static final Set<String> OPERATORS = Set.of("AND", "OR", "NOT");

    private NoriBaseline() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: java NoriBaseline PAPERS.tsv QUERIES.txt LIMIT");
            System.exit(2);
        }
        List<String[]> rows = readRows(Path.of(args[0]));
        List<String[]> queries = readRows(Path.of(args[1]));
        int limit = Integer.parseInt(args[2]);
        String idField = rows.get(0)[0];
        String[] fields = Arrays.copyOfRange(rows.get(0), 1, rows.get(0).length);

        Analyzer analyzer = new KoreanAnalyzer();
        BM25Similarity similarity = new BM25Similarity();
        try (ByteBuffersDirectory directory = new ByteBuffersDirectory()) {
            IndexWriterConfig config = new IndexWriterConfig(analyzer).setSimilarity(similarity);
            try (IndexWriter writer = new IndexWriter(directory, config)) {
                for (String[] row : rows.subList(1, rows.size())) {
                    writer.addDocument(toDocument(idField, fields, row));
                }
            }
            try (DirectoryReader reader = DirectoryReader.open(directory)) {
                IndexSearcher searcher = new IndexSearcher(reader);
                searcher.setSimilarity(similarity);
                QueryParser parser = new MultiFieldQueryParser(fields, analyzer);
                parser.setDefaultOperator(QueryParser.Operator.OR);
                PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
                for (String[] query : queries) {
                    out.println(String.join("\t", search(searcher, parser, query[0], idField, limit)));
                }
                out.flush();
            }
        }
    }

    private static Document toDocument(String idField, String[] fields, String[] row) {
        Document document = new Document();
        document.add(new StringField(idField, row[0], Field.Store.YES));
        for (int i = 0; i < fields.length; i++) {
            document.add(new TextField(fields[i], row[i + 1], Field.Store.NO));
        }
        return document;
    }

    /** Returns the distinct ids of the best hits, paging on because re-posted papers repeat ids. */
    private static List<String> search(
            IndexSearcher searcher, QueryParser parser, String text, String idField, int limit)
            throws IOException {
        String escaped = escapeQuery(text);
        if (limit <= 0 || escaped.isEmpty()) {
            return List.of();
        }
        Query query;
        try {
            query = parser.parse(escaped);
        } catch (ParseException e) {
            System.err.println("NoriBaseline: skipping unparsable query " + text + ": " + e.getMessage());
            return List.of();
        }
        LinkedHashSet<String> ids = new LinkedHashSet<>();
        ScoreDoc after = null;
        while (ids.size() < limit) {
            ScoreDoc[] page = searcher.searchAfter(after, query, limit).scoreDocs;
            for (ScoreDoc hit : page) {
                ids.add(searcher.doc(hit.doc).get(idField));
                if (ids.size() == limit) {
                    break;
                }
            }
            if (page.length < limit) {
                break;
            }
            after = page[page.length - 1];
        }
        return new ArrayList<>(ids);
    }

    /** Escapes query syntax so user text cannot fail to parse, keeping quoted phrases as phrases. */
    private static String escapeQuery(String text) {
        StringJoiner parts = new StringJoiner(" ");
        Matcher matcher = QUERY_PART.matcher(text);
        while (matcher.find()) {
            String phrase = matcher.group(1);
            String word = matcher.group(2);
            if (phrase != null) {
                if (!phrase.isBlank()) {
                    parts.add('"' + QueryParser.escape(phrase) + '"');
                }
            } else if (OPERATORS.contains(word)) {
                parts.add(word.toLowerCase(Locale.ROOT));
            } else {
                parts.add(QueryParser.escape(word));
            }
        }
        return parts.toString();
    }

    private static List<String[]> readRows(Path path) throws IOException {
        List<String[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            String[] values = line.split("\t", -1);
            for (int i = 0; i < values.length; i++) {
                values[i] = unescape(values[i]);
            }
            rows.add(values);
        }
        return rows;
    }

    private static String unescape(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                char next = value.charAt(++i);
                out.append(next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
