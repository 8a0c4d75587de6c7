"""What the bot never answers: a request for a person, one order of the visitor's, a complaint, small talk."""

from __future__ import annotations

import pytest

from marketplace.core.faq import guards


@pytest.mark.parametrize("message", [
    "je veux parler à un conseiller", "Je voudrais parler à un humain s'il vous plaît", "jveux un conseiller svp",
    "passez-moi un humain", "je veux parler a quelqu'un", "puis-je parler à un vendeur ?", "agent",
    "une vraie personne svp", "can I talk to a real person please", "talk to someone please",
    "I need a human, not a bot", "let me talk to an agent", "I'd like to speak with someone",
    "get me a human", "speak to a representative", "Est-ce que je peux avoir quelqu'un au téléphone ?",
    "je voudrais être rappelé", "pouvez-vous m'appeler ?", "j'aimerais discuter avec un vendeur",
    "mettez-moi en relation avec un conseiller", "is there a person I can talk to?", "connect me with an agent",
    "Can someone call me back?", "operator",
])
def test_a_request_for_a_person_is_guarded(message):
    assert guards.guard(message) == guards.ASKED_FOR_PERSON


@pytest.mark.parametrize("message", [
    "Ma commande 45821 n'est toujours pas arrivée", "commande #58812 toujours pas livrée", "commande n°88213",
    "colis pas reçu depuis une semaine", "je n'ai pas reçu mon colis", "il est où mon colis ???",
    "mon vélo n'est toujours pas arrivé", "où en est ma commande", "je veux annuler ma commande",
    "where is my order #10293? it's been 10 days", "my package hasn't arrived yet", "where is my package??",
    "i still haven't received my order", "my order 99812 is missing a bulb", "where's my bike? order 55612",
    "my parcel is lost", "ma livraison devait arriver hier et rien", "le transporteur dit livré mais je n'ai rien",
    "j'ai reçu le mauvais article", "mon paiement a été débité deux fois", "mon colis est bloqué depuis 5 jours",
    "je veux modifier l'adresse de livraison de ma commande",
    "mon vélo commandé la semaine dernière n'est pas encore là",
    "I received the wrong item", "my order number is 88231, when will it arrive?",
    "can you check the status of my order?", "I was charged twice for my order", "what happened to my order?",
    "the tracking says delivered but I didn't get anything", "I want to cancel my order",
])
def test_a_problem_with_one_order_is_guarded(message):
    assert guards.guard(message) == guards.ORDER_SPECIFIC


@pytest.mark.parametrize("message", [
    "C'est inadmissible, trois semaines d'attente !", "remboursez moi immédiatement", "c'est scandaleux",
    "très déçue, c'est nul", "je veux porter plainte", "c'est une honte", "worst customer service ever",
    "this is unacceptable", "I want my money back", "terrible service, I'm disgusted", "this is a scam",
    "I want to make a complaint", "service client lamentable, c'est honteux", "je suis très mécontent de mon achat",
    "Vous êtes des voleurs", "this lamp is rubbish", "I'm very disappointed with my purchase",
    "never buying from you again",
])
def test_a_complaint_is_guarded(message):
    assert guards.guard(message) == guards.COMPLAINT


@pytest.mark.parametrize("message", [
    "bonjour", "Bonjour !", "merci beaucoup !", "slt", "bjr", "ça va ?", "bonne soirée", "ok cool", "lol", "mdr",
    "hello", "hi", "thanks!", "thx", "thank you so much", "how are you?", "what's up", "good morning", "haha ok",
    "", "   ", "!!!", "hey there", "allo ?", "thanks a lot, bye", "ok merci", "merci, bonne journée",
    "bonjour, j'ai une question", "hi, I have a quick question",
])
def test_small_talk_is_guarded(message):
    assert guards.guard(message) == guards.CHIT_CHAT


@pytest.mark.parametrize("message", [
    "Bonjour, quels sont vos délais de livraison ?", "salut, vous livrez en Belgique ?", "merci, et la garantie ?",
    "how do I track my order?", "Comment suivre ma commande ?", "où trouver le numéro de suivi de ma commande",
    "je commande aujourd'hui, je reçois quand ?", "when will I receive my lamp if I order today?",
    "L'ampoule n'est pas livrée avec la lampe ?", "When will I get my refund?", "how long for a refund?",
    "when do i get my money back after returning something?", "Hi! What's the warranty?",
    "Il faut un électricien pour poser le plafonnier ?", "ma lampe est arrivée cassée, que faire ?",
    "J'ai reçu une applique qui ne me plaît pas, puis-je la renvoyer ?", "un vélo pour une personne de 1m60 ?",
    "je ne trouve nulle part la notice", "Can I pay in 3 installments?",
    "j'ai commandé le mauvais modèle, je peux le renvoyer ?", "I ordered the wrong size, can I exchange it?",
    "Je n'ai pas encore la notice, où la trouver ?", "Where do I find my order number?",
])
def test_a_question_the_base_may_answer_is_not_guarded(message):
    assert guards.guard(message) is None
