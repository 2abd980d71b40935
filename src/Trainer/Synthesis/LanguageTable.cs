using System.Globalization;

namespace Trainer.Synthesis;

/// <summary>
/// The languages generations are asked for, with sampling weights. The default is XLM-R's 100 languages weighted as
/// in the paper: English 0.431, thirteen high-resource languages 0.029 each, and the rest sharing what is left equally.
/// A file of <c>name, weight</c> lines (a tab or a comma between them; <c>#</c> starts a comment) replaces it.
/// </summary>
public sealed class LanguageTable
{
    private static readonly string[] HighResource =
        ["Arabic", "Chinese", "Dutch", "French", "German", "Indonesian", "Italian", "Japanese", "Persian", "Polish", "Portuguese", "Russian", "Spanish"];

    /// <summary>The XLM-R pretraining languages (CC-100), by English name, romanized and Zawgyi variants included.</summary>
    private static readonly string[] XlmR =
    [
        "Afrikaans", "Albanian", "Amharic", "Arabic", "Armenian", "Assamese", "Azerbaijani", "Basque", "Belarusian", "Bengali", "Bosnian",
        "Breton", "Bulgarian", "Burmese", "Catalan", "Chinese", "Croatian", "Czech", "Danish", "Dutch", "English", "Esperanto", "Estonian",
        "Filipino", "Finnish", "French", "Galician", "Georgian", "German", "Greek", "Gujarati", "Hausa", "Hebrew", "Hindi", "Hungarian",
        "Icelandic", "Indonesian", "Irish", "Italian", "Japanese", "Javanese", "Kannada", "Kazakh", "Khmer", "Korean", "Kurdish", "Kyrgyz",
        "Lao", "Latin", "Latvian", "Lithuanian", "Macedonian", "Malagasy", "Malay", "Malayalam", "Marathi", "Mongolian", "Nepali", "Norwegian",
        "Oriya", "Oromo", "Pashto", "Persian", "Polish", "Portuguese", "Punjabi", "Romanian", "Russian", "Sanskrit", "Scottish Gaelic",
        "Serbian", "Sindhi", "Sinhala", "Slovak", "Slovenian", "Somali", "Spanish", "Sundanese", "Swahili", "Swedish", "Tamil", "Telugu",
        "Thai", "Turkish", "Ukrainian", "Urdu", "Uyghur", "Uzbek", "Vietnamese", "Welsh", "Western Frisian", "Xhosa", "Yiddish",
        "Hindi (Latin)", "Urdu (Latin)", "Tamil (Latin)", "Telugu (Latin)", "Bengali (Latin)", "Burmese (Zawgyi)", "Traditional Chinese",
    ];

    private readonly double[] _cumulative;
    private readonly string[] _names;

    public LanguageTable(IReadOnlyList<(string Name, double Weight)> languages)
    {
        if (languages.Count == 0) throw new ArgumentException("the language list is empty.");
        _names = languages.Select(l => l.Name).ToArray();
        Weights = languages.Select(l => l.Weight).ToArray();
        _cumulative = new double[Weights.Count];
        double sum = 0;
        for (int i = 0; i < Weights.Count; i++) _cumulative[i] = sum += Weights[i];
    }

    public IReadOnlyList<string> Names => _names;

    public IReadOnlyList<double> Weights { get; }

    public static LanguageTable Default()
    {
        var rest = XlmR.Where(n => n != "English" && !HighResource.Contains(n)).ToArray();
        double share = (1.0 - 0.431 - 0.029 * HighResource.Length) / rest.Length;
        return new LanguageTable([("English", 0.431), .. HighResource.Select(n => (n, 0.029)), .. rest.Select(n => (n, share))]);
    }

    /// <summary>Reads <c>name, weight</c> lines; errors name the file and line.</summary>
    public static LanguageTable Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--languages: {path} does not exist.");
        var languages = new List<(string, double)>();
        int number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0) continue;
            int cut = line.LastIndexOfAny(['\t', ',']);
            if (cut <= 0 || !double.TryParse(line[(cut + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double weight) || weight <= 0 || !double.IsFinite(weight))
                throw new InvalidDataException($"{path}:{number}: expected \"name, weight\" with a positive weight, got \"{raw}\".");
            var name = line[..cut].Trim();
            if (languages.Any(l => l.Item1 == name)) throw new InvalidDataException($"{path}:{number}: \"{name}\" is listed twice.");
            languages.Add((name, weight));
        }
        if (languages.Count == 0) throw new InvalidDataException($"{path}: no languages listed.");
        return new LanguageTable(languages);
    }

    /// <summary>A language drawn by weight; <paramref name="except"/> (if any) is never drawn, the others keeping their relative weights.</summary>
    public string Sample(Random random, string? except = null)
    {
        if (except is null) return Names[Index(random.NextDouble() * _cumulative[^1])];
        int skip = Array.IndexOf(_names, except);
        if (skip < 0) return Names[Index(random.NextDouble() * _cumulative[^1])];
        if (Names.Count == 1) throw new ArgumentException("bitext needs at least two languages.");
        double total = _cumulative[^1] - Weights[skip];
        double target = random.NextDouble() * total;
        if (target >= (skip == 0 ? 0 : _cumulative[skip - 1])) target += Weights[skip];
        int index = Index(target);
        return Names[index == skip ? (skip + 1 < Names.Count ? skip + 1 : skip - 1) : index];
    }

    private int Index(double target)
    {
        int i = Array.BinarySearch(_cumulative, target);
        i = i < 0 ? ~i : i + 1;
        return Math.Min(i, _cumulative.Length - 1);
    }

    /// <summary>A short fingerprint of the names and weights (what a run's settings record).</summary>
    public string Fingerprint() => Hashing.Short(string.Join("\n", Names.Select((n, i) => $"{n}\t{Weights[i].ToString("R", CultureInfo.InvariantCulture)}")));
}
