using Trainer.Evaluation.Passkey;

namespace Trainer.Tests.Evaluation.Passkey;

public class PasskeyScoringTests
{
    /// <summary>
    /// Four unit vectors worked by hand. Documents: d0 = (1, 0), d1 = (0, 1), d2 = (0.6, 0.8), d3 = (−1, 0).
    /// q0 = (0.8, 0.6): scores 0.8, 0.6, 0.96, −0.8 → d2 wins, a miss.
    /// q1 = (0, 1): scores 0, 1, 0.8, 0 → d1, a hit.
    /// q2 = (0.6, 0.8): scores 0.6, 0.8, 1, −0.6 → d2, a hit.
    /// q3 = (−0.6, −0.8): scores −0.6, −0.8, −1, 0.6 → d3, a hit.
    /// Top-1 = 3 / 4.
    /// </summary>
    [Fact]
    public void Top1_accuracy_of_a_hand_worked_case()
    {
        float[][] documents = [[1, 0], [0, 1], [0.6f, 0.8f], [-1, 0]];
        float[][] queries = [[0.8f, 0.6f], [0, 1], [0.6f, 0.8f], [-0.6f, -0.8f]];
        Assert.Equal([2, 1, 2, 3], PasskeyScoring.Winners(queries, documents));
        var hits = PasskeyScoring.Hits(queries, documents);
        Assert.Equal([false, true, true, true], hits);
        Assert.Equal(0.75, PasskeyScoring.Accuracy(hits));
    }

    [Fact]
    public void A_tie_for_the_top_is_a_miss_so_identical_documents_score_zero()
    {
        // q0 scores d0 and d1 alike (0.6 each): not answered; q1 = d1 exactly, answered
        float[][] documents = [[0.6f, 0.8f], [0.6f, -0.8f], [0, -1]];
        float[][] queries = [[1, 0], [0.6f, -0.8f], [0, -1]];
        Assert.Equal([false, true, true], PasskeyScoring.Hits(queries, documents));
        Assert.Equal([-1, 1, 2], PasskeyScoring.Winners(queries, documents));

        float[][] same = [[0.6f, 0.8f], [0.6f, 0.8f], [0.6f, 0.8f]];
        Assert.Equal(0.0, PasskeyScoring.Accuracy(PasskeyScoring.Hits(same, same)));
    }

    [Fact]
    public void Counts_that_do_not_pair_up_are_refused()
    {
        float[][] two = [[1, 0], [0, 1]];
        Assert.Contains("query i asks for document i", Assert.Throws<ArgumentException>(() => PasskeyScoring.Hits(two, [[1, 0]])).Message);
    }
}
