namespace Trainer.Evaluation.Passkey;

/// <summary>
/// The words of the personalised passkey test (the paper's §5.2, after Mohtashami and Jaggi's passkey retrieval): the
/// filler that pads each document, the sentence that gives a person's passkey, the query that asks for it, and the
/// names. All of it is this project's own text. The filler holds no digits and no names, so the passkey sentence is
/// the only place a document mentions either.
/// </summary>
public static class PasskeyText
{
    /// <summary>The query instruction unless <c>--instruction</c> gives another.</summary>
    public const string Instruction = "Given a person's name, retrieve the document that tells that person's passkey";

    /// <summary>Repeated in this order, as often as a document's length needs.</summary>
    public static readonly string[] Filler =
    [
        "The river runs slowly past the old stone mill.",
        "A light wind moves through the tall grass.",
        "The baker opens the shop before the sun comes up.",
        "Two small boats rest beside the wooden pier.",
        "The clock in the square strikes the hour.",
        "Children play in the park until the lamps come on.",
        "Rain taps softly on the roof of the barn.",
        "The road bends around the quiet green hill.",
        "A grey cat sleeps on the warm window ledge.",
        "The market sells apples, bread and cheese.",
        "Snow covers the fields in the far north.",
        "The evening train leaves the station on time.",
    ];

    public static readonly string[] FirstNames =
    [
        "Alice", "Bruno", "Clara", "Daniel", "Elena", "Felix", "Grace", "Hugo", "Irene", "Jonas",
        "Karin", "Leo", "Maya", "Nora", "Oscar", "Paula", "Quentin", "Rosa", "Samuel", "Tessa",
        "Ulrich", "Vera", "Walter", "Yara", "Zoe", "Amir", "Bianca", "Carlos", "Dora", "Emil",
        "Fiona", "Gustav", "Hannah", "Ivan", "Julia", "Kofi", "Lena", "Marco", "Nadia", "Omar",
    ];

    public static readonly string[] LastNames =
    [
        "Abbott", "Barker", "Castillo", "Dalton", "Ellison", "Fischer", "Garner", "Holloway", "Ingram", "Jensen",
        "Keller", "Lindqvist", "Mercer", "Novak", "Osborne", "Pereira", "Quinn", "Rahman", "Sutton", "Tanaka",
        "Underwood", "Vargas", "Whitfield", "Yilmaz", "Zimmer", "Ashford", "Brennan", "Costa", "Dubois", "Eriksen",
        "Fontaine", "Gallagher", "Hartmann", "Iversen", "Jovanovic", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor",
    ];

    /// <summary>Passkeys are drawn from [Min, Max]: five digits each.</summary>
    public const int MinPasskey = 10000, MaxPasskey = 99999;

    /// <summary>The sentence that gives the passkey, stated twice as in the paper's figure.</summary>
    public static string KeySentence(string name, int passkey) => $"{name}'s passkey is {passkey}. Remember it. {passkey} is the passkey of {name}.";

    /// <summary>The query that asks for <paramref name="name"/>'s passkey (the instruction is put before it by the query template).</summary>
    public static string Query(string name) => $"what is {name}'s passkey?";
}
