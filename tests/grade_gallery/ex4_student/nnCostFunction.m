function [J grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size, ...
                                   num_labels, X, y, lambda)
%NNCOSTFUNCTION A correct solution that calls sigmoidGradient.m: [Theta1(:); Theta2(:)], labels 1..K.

Theta1 = reshape(nn_params(1:hidden_layer_size * (input_layer_size + 1)), ...
                 hidden_layer_size, (input_layer_size + 1));
Theta2 = reshape(nn_params((1 + (hidden_layer_size * (input_layer_size + 1))):end), ...
                 num_labels, (hidden_layer_size + 1));
m = size(X, 1);

% Part 1: feed-forward and cost
a1 = [ones(m, 1) X];
z2 = a1 * Theta1';
a2 = [ones(m, 1) sigmoid(z2)];
z3 = a2 * Theta2';
a3 = sigmoid(z3);

I = eye(num_labels);
Y = I(y, :);

J = (1 / m) * sum(sum(-Y .* log(a3) - (1 - Y) .* log(1 - a3)));
J = J + (lambda / (2 * m)) * (sum(sum(Theta1(:, 2:end) .^ 2)) + sum(sum(Theta2(:, 2:end) .^ 2)));

% Part 2: backpropagation
d3 = a3 - Y;
d2 = (d3 * Theta2(:, 2:end)) .* sigmoidGradient(z2);
Delta1 = d2' * a1;
Delta2 = d3' * a2;

% Part 3: regularization (not of the bias column)
Theta1_grad = Delta1 / m + (lambda / m) * [zeros(size(Theta1, 1), 1) Theta1(:, 2:end)];
Theta2_grad = Delta2 / m + (lambda / m) * [zeros(size(Theta2, 1), 1) Theta2(:, 2:end)];

grad = [Theta1_grad(:) ; Theta2_grad(:)];
end
